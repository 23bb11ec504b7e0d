import { randomUUID } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import { partitionKeyOf } from '@evkit/transport';
import { CliDependencyError, CliUsageError, describeError } from './exit-codes';

export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  /** The group's committed offset; null when it has committed none for this partition. */
  readonly committedOffset: string | null;
  /** The oldest offset still in the log. */
  readonly logStartOffset: string;
  /** The offset the next record will get. */
  readonly highWatermark: string;
  /** Records after the committed offset (all records still in the log when nothing is committed). */
  readonly offsetLag: number;
  /** Age of the oldest unhandled record, ms; 0 when caught up; null when it could not be read in time. */
  readonly timeLagMs: number | null;
  /** When that record was written (its Kafka timestamp), ISO 8601; null when caught up or unknown. */
  readonly oldestUnhandledAt: string | null;
}

export interface GroupLag {
  readonly groupId: string;
  /** KafkaJS's group state: Stable, Empty, PreparingRebalance, Dead (unknown to the cluster)... */
  readonly state: string;
  readonly members: number;
  readonly partitions: readonly PartitionLag[];
}

export interface GroupLagOptions {
  /** Default: every topic the group has committed offsets for. */
  readonly topics?: readonly string[];
  /** How long to wait for the oldest unhandled records. */
  readonly timeoutMs: number;
  readonly now?: () => number;
}

interface Position {
  topic: string;
  partition: number;
  committed: bigint | undefined;
  low: bigint;
  high: bigint;
  /** The offset of the oldest unhandled record, when there is one. */
  oldest: bigint | undefined;
}

/**
 * Offset and time lag of a consumer group, per partition. Time lag is the age of the oldest
 * record the group has not handled: the one at its committed offset (or the first still in the
 * log, if retention removed that one). Kafka's admin API gives offsets but not timestamps, so a
 * throwaway consumer group seeks to exactly those records, reads one per lagging partition, and
 * is deleted afterwards. Nothing of the group itself is touched.
 */
export async function readGroupLag(kafka: Kafka, groupId: string, options: GroupLagOptions): Promise<GroupLag> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    if (options.topics) await requireTopics(admin, options.topics);
    const [description] = (await admin.describeGroups([groupId])).groups;
    const committed = await admin.fetchOffsets({ groupId, ...(options.topics ? { topics: [...options.topics] } : {}) });
    const positions = (
      await Promise.all(
        committed.map(async ({ topic, partitions }) => {
          const ends = await admin.fetchTopicOffsets(topic);
          const offsetOf = new Map(partitions.map((p) => [p.partition, BigInt(p.offset)]));
          return ends.map(({ partition, low, high }): Position => {
            const at = offsetOf.get(partition);
            const done = at === undefined || at < 0n ? undefined : at;
            const start = done === undefined || done < BigInt(low) ? BigInt(low) : done;
            return { topic, partition, committed: done, low: BigInt(low), high: BigInt(high), oldest: start < BigInt(high) ? start : undefined };
          });
        }),
      )
    )
      .flat()
      .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
    const timestamps = await oldestTimestamps(kafka, admin, positions, options.timeoutMs);
    const now = (options.now ?? Date.now)();
    return {
      groupId,
      state: description?.state ?? 'Unknown',
      members: description?.members.length ?? 0,
      partitions: positions.map((p) => {
        const timestamp = timestamps.get(partitionKeyOf(p.topic, p.partition));
        return {
          topic: p.topic,
          partition: p.partition,
          committedOffset: p.committed?.toString() ?? null,
          logStartOffset: p.low.toString(),
          highWatermark: p.high.toString(),
          offsetLag: Number(p.high - (p.committed ?? p.low)),
          timeLagMs: p.oldest === undefined ? 0 : timestamp === undefined ? null : Math.max(0, now - timestamp),
          oldestUnhandledAt: timestamp === undefined ? null : new Date(timestamp).toISOString(),
        };
      }),
    };
  } catch (error) {
    if (error instanceof CliUsageError) throw error;
    throw new CliDependencyError(`lag of consumer group ${groupId} could not be read: ${describeError(error)}`, {
      cause: error,
      retriable: (error as { retriable?: unknown }).retriable === true,
    });
  } finally {
    await admin.disconnect();
  }
}

async function requireTopics(admin: Admin, topics: readonly string[]): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((topic) => !existing.has(topic));
  if (missing.length > 0) throw new CliUsageError(`no such topic: ${missing.join(', ')}`);
}

/** The Kafka timestamp of the record at `oldest` for each partition that has one, read within `timeoutMs`. */
async function oldestTimestamps(kafka: Kafka, admin: Admin, positions: readonly Position[], timeoutMs: number): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  const wanted = new Map(positions.filter((p) => p.oldest !== undefined).map((p) => [partitionKeyOf(p.topic, p.partition), p.oldest!]));
  if (wanted.size === 0) return found;
  const topics = new Set(positions.filter((p) => p.oldest !== undefined).map((p) => p.topic));
  const groupId = `evkit-lag.${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, retry: { retries: 2 } });
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [...topics], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, timeoutMs);
      consumer
        .run({
          autoCommit: false,
          eachBatch: ({ batch }) => {
            const key = partitionKeyOf(batch.topic, batch.partition);
            const from = wanted.get(key);
            // Records before `from` can arrive when a fetch ran before the seek took effect.
            const first = batch.messages.find((m) => from !== undefined && BigInt(m.offset) >= from);
            if (first !== undefined && !found.has(key)) found.set(key, Number(first.timestamp));
            if (found.size === wanted.size) {
              clearTimeout(timer);
              resolve();
            }
            return Promise.resolve();
          },
        })
        .catch((error: unknown) => {
          clearTimeout(timer);
          reject(error instanceof Error ? error : new Error(String(error)));
        });
      // `run` has set the group up by now (seek refuses otherwise); the seeks apply from its first
      // fetch. Caught-up partitions of the same topics start at their end, so they yield nothing.
      // (admin.setOffsets would do the same through a consumer of its own, seconds slower.)
      for (const p of positions) {
        if (topics.has(p.topic)) consumer.seek({ topic: p.topic, partition: p.partition, offset: (p.oldest ?? p.high).toString() });
      }
    });
  } finally {
    await consumer.disconnect();
    // Best effort: the group committed nothing, so the broker drops it by itself anyway; failing
    // the command over a leftover would not help.
    await admin.deleteGroups([groupId]).catch(() => undefined);
  }
  return found;
}
