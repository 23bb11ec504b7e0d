import type { OutgoingRecord, PublisherTransport, SubscriberTransport } from '@evkit/transport';
import type { FixtureRecord } from '../fixture';
import { measurement, type ConsumeRun, type Measurement } from '../harness/protocol';
import { Progress } from './progress';

// The evkit transport alone, on whichever client: the same code measures @evkit/transport-kafkajs
// and @evkit/transport-platformatic. Imports no client, so each worker loads only its own.

/** What the producer and consumer workers serve; one implementation per variant. */
export interface ProducerClient {
  connect(): Promise<void>;
  /** Untimed, before each run on a fresh topic: what a warm service already has (schema ids, caches). */
  prepare(topic: string): Promise<void>;
  /** Resolves once the whole batch is acknowledged. */
  send(topic: string, batch: readonly FixtureRecord[]): Promise<void>;
  disconnect(): Promise<void>;
}

/** Each `consume` reads a topic from the start in a new group, then leaves it. */
export interface ConsumerClient {
  consume(run: ConsumeRun): Promise<Measurement>;
  close(): Promise<void>;
}

/** Fetch settings of evkit's subscribers, given to the raw clients too. */
export const FETCH = { maxWaitTimeInMs: 500, maxBytesPerPartition: 1_048_576, maxBytes: 10_485_760, sessionTimeout: 30_000, heartbeatInterval: 3_000 };

/** The pre-encoded records as they are, for the transport alone. */
export const preEncoded = (topic: string, batch: readonly FixtureRecord[]): OutgoingRecord[] => batch.map(({ key, value, headers }) => ({ topic, key, value, headers }));

export function publisherClient(publisher: PublisherTransport, recordsOf: (topic: string, batch: readonly FixtureRecord[]) => OutgoingRecord[] = preEncoded): ProducerClient {
  return {
    connect: () => publisher.connect(),
    prepare: () => Promise.resolve(),
    async send(topic, batch) {
      await publisher.send(recordsOf(topic, batch));
    },
    disconnect: () => publisher.disconnect(),
  };
}

/** A subscriber per run (a new group each time), a no-op per record, a commit per batch. */
export function subscriberClient(subscriberOf: () => SubscriberTransport): ConsumerClient {
  return {
    async consume({ topic, groupId, expected }) {
      const subscriber = subscriberOf();
      const progress = new Progress(expected);
      await subscriber.run({
        groupId,
        topics: [topic],
        fromBeginning: true,
        async handleBatch(batch) {
          for (const record of batch.records) {
            await progress.handler(record);
          }
          const last = batch.records[batch.records.length - 1]!;
          await subscriber.commit({ topic: batch.topic, partition: batch.partition, offset: String(BigInt(last.offset) + 1n) });
        },
      });
      const { records, elapsedMs } = await progress.done;
      await subscriber.disconnect();
      return measurement(records, elapsedMs);
    },
    close: () => Promise.resolve(),
  };
}
