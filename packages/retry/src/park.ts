import type { RecordHeaders } from '@evkit/envelope';
import type { DeadLetterEntry } from './replay-selection';

// Parking: a dead letter nobody will replay (bad data, a retired event type) is moved out of the
// dead-letter topic, so what remains there is what still needs someone. Kafka deletes nothing, so
// "moved" means copied to the parked topic with the position it came from; the replayer leaves
// out of a dead-letter topic every record its parked topic names.

// `evkit_dlt-` like the other diagnostics: a replay strips them with the rest.
export const PARK_HEADERS = {
  reason: 'evkit_dlt-parked-reason',
  parkedAt: 'evkit_dlt-parked-at',
  parkedFrom: 'evkit_dlt-parked-from',
} as const;

/** `<topic>.<group>.parked` beside `<topic>.<group>.dlq`; any other dead-letter topic name gains `.parked`. */
export function parkedTopicFor(deadLetterTopic: string): string {
  return deadLetterTopic.endsWith('.dlq') ? `${deadLetterTopic.slice(0, -'.dlq'.length)}.parked` : `${deadLetterTopic}.parked`;
}

/** Where a record sits, as `evkit_dlt-parked-from` and `evkit_replay-from` write it. */
export function positionText(topic: string, partition: number, offset: string): string {
  return `${topic}:${partition}:${offset}`;
}

/** The headers of a parked copy: every header of the dead letter (its diagnostics too) and why it was parked. */
export function parkedHeaders(entry: DeadLetterEntry, reason: string, parkedAt: string): RecordHeaders {
  const { topic, partition, offset } = entry.position;
  return { ...entry.record.headers, [PARK_HEADERS.reason]: reason, [PARK_HEADERS.parkedAt]: parkedAt, [PARK_HEADERS.parkedFrom]: positionText(topic, partition, offset) };
}

/** Dead letters that failed the same way: one error code (or class when there is none), one event type. */
export interface DeadLetterGroup {
  errorCode: string | undefined;
  errorClass: string | undefined;
  eventType: string | undefined;
  count: number;
  /** When the first and last of them were dead-lettered, ms since the epoch. */
  firstAt: number;
  lastAt: number;
  /** The message of the latest one (credentials already removed by the routing). */
  sampleMessage: string | undefined;
}

/** Groups entries by error code, error class and event type, largest group first. */
export function groupDeadLetters(entries: readonly DeadLetterEntry[]): DeadLetterGroup[] {
  const groups = new Map<string, DeadLetterGroup>();
  for (const entry of entries) {
    const key = JSON.stringify([entry.errorCode ?? null, entry.errorClass ?? null, entry.eventType ?? null]);
    const group = groups.get(key);
    if (group === undefined) {
      groups.set(key, {
        errorCode: entry.errorCode,
        errorClass: entry.errorClass,
        eventType: entry.eventType,
        count: 1,
        firstAt: entry.timestamp,
        lastAt: entry.timestamp,
        sampleMessage: entry.errorMessage,
      });
      continue;
    }
    group.count += 1;
    group.firstAt = Math.min(group.firstAt, entry.timestamp);
    if (entry.timestamp >= group.lastAt) {
      group.lastAt = entry.timestamp;
      group.sampleMessage = entry.errorMessage;
    }
  }
  return [...groups.values()].sort((a, b) => b.count - a.count || a.firstAt - b.firstAt);
}
