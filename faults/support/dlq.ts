import { waitUntil } from './faults';
import { readTopic, type TopicRecord } from './kafka';

// The dead-letter topic as the checker sees it: records by event id, with their diagnostics.

export interface DeadLetter {
  uid: string | undefined;
  code: string | undefined;
  reason: string | undefined;
  attempts: number | undefined;
  record: TopicRecord;
}

export function deadLetterTopicOf(topic: string, groupId: string): string {
  return `${topic}.${groupId}.dlq`;
}

export async function readDeadLetters(brokers: string[], topic: string): Promise<DeadLetter[]> {
  const records = await readTopic(brokers, topic).catch(() => []);
  return records.map((record) => ({
    uid: record.headers.ce_id,
    code: record.headers['evkit_dlt-error-code'],
    reason: record.headers['kafka_dlt-exception-message'],
    attempts: record.headers['evkit_dlt-attempts'] === undefined ? undefined : Number(record.headers['evkit_dlt-attempts']),
    record,
  }));
}

/** Reads the dead-letter topic until it holds every one of `uids` (bounded); returns what it holds then. */
export async function awaitDeadLetters(brokers: string[], topic: string, uids: ReadonlySet<string>, timeoutMs: number): Promise<DeadLetter[]> {
  let letters: DeadLetter[] = [];
  await waitUntil(
    `${uids.size} event(s) in ${topic}`,
    async () => {
      letters = await readDeadLetters(brokers, topic);
      const found = new Set(letters.map((l) => l.uid));
      return [...uids].every((uid) => found.has(uid));
    },
    timeoutMs,
  ).catch(() => undefined);
  return letters;
}
