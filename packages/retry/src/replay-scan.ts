import type { IncomingRecord, SubscriberTransport, TopicSpec } from '@evkit/transport';

export interface ScanOptions {
  /** The consumer group that reads. */
  group: string;
  /** The group whose committed position the scan starts from (a replay's own, or `group`). */
  positionOf: string;
  /** Whether `group`'s position moves as batches are handled. */
  commit: boolean;
}

/** Reads a topic a batch at a time, from `positionOf`'s position up to the end as it was when the scan began. */
export type Scan = (topic: string, options: ScanOptions, onBatch: (records: readonly IncomingRecord[]) => Promise<void>) => Promise<void>;

/** A scan through a fresh subscriber each time, disconnected when the scan ends. */
export function createScan(makeSubscriber: () => SubscriberTransport): Scan {
  return async (topic, scanOptions, onBatch) => {
    const { group: groupId, commit } = scanOptions;
    const subscriber = makeSubscriber();
    await subscriber.connect();
    try {
      const starts = new Map<number, bigint>();
      const ends = new Map<number, bigint>();
      for (const p of await subscriber.offsets(scanOptions.positionOf, [topic])) {
        const start = BigInt(p.committed) < 0n ? 0n : BigInt(p.committed);
        starts.set(p.partition, start);
        if (BigInt(p.highWatermark) > start) ends.set(p.partition, BigInt(p.highWatermark));
      }
      if (ends.size === 0) return;
      let failed = false;
      await new Promise<void>((resolve, reject) => {
        subscriber
          .run({
            groupId,
            topics: [topic],
            fromBeginning: true,
            handleBatch: async (batch) => {
              const end = ends.get(batch.partition);
              if (failed || end === undefined) return;
              const start = starts.get(batch.partition) ?? 0n;
              const records = batch.records.filter((r) => BigInt(r.offset) >= start && BigInt(r.offset) < end);
              if (records.length === 0) return;
              try {
                await onBatch(records);
              } catch (error) {
                // The caller hears of it and the scan ends uncommitted past the last good batch;
                // thrown to the subscriber it would be redelivered forever and never reported.
                failed = true;
                reject(error instanceof Error ? error : new Error(String(error)));
                return;
              }
              const last = BigInt(records.at(-1)!.offset);
              if (commit) await subscriber.commit({ topic, partition: batch.partition, offset: (last + 1n).toString() });
              if (last + 1n >= end) {
                ends.delete(batch.partition);
                if (ends.size === 0) resolve();
              }
            },
          })
          .catch(reject);
      });
    } finally {
      await subscriber.disconnect();
    }
  };
}

/** Creates the topics that do not exist yet, through a subscriber of its own. */
export async function ensureTopicsWith(makeSubscriber: () => SubscriberTransport, topics: readonly TopicSpec[]): Promise<void> {
  if (topics.length === 0) return;
  const subscriber = makeSubscriber();
  await subscriber.connect();
  try {
    await subscriber.ensureTopics(topics);
  } finally {
    await subscriber.disconnect();
  }
}
