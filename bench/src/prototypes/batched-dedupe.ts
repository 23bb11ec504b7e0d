import type { Pool, PoolClient } from 'pg';
import type { AvroCodec } from '@evkit/codec';
import type { CloudEvent } from '@evkit/envelope';
import type { PartitionBatch } from '@evkit/transport';
import { createKafkaJsSubscriber, type KafkaJsSubscriberOptions } from '@evkit/transport-kafkajs';

// PROTOTYPE, not evkit's consumer: what "dedupe per Kafka batch" costs, to size the change in
// @evkit/consumer + @evkit/idempotency. Same table and key as createPostgresIdempotencyStore
// (consumer_group, event_id). Per Kafka batch (one partition, up to hundreds of records):
//   BEGIN; INSERT ... SELECT unnest($ids) ON CONFLICT DO NOTHING RETURNING event_id;
//   run the handler of each new event on the same client; COMMIT; commit the Kafka offset.
// Three round trips per batch instead of three per record. What it gives up, which the real
// change must handle: a failing handler rolls back the whole batch (redelivered as a whole; the
// real one would retry the batch record by record, or use a SAVEPOINT per record), and records
// of one partition are handled one after another in the batch's transaction (no keyConcurrency).

export interface BatchedDedupeOptions {
  kafka: KafkaJsSubscriberOptions;
  codec: AvroCodec;
  pool: Pool;
  table: string;
  groupId: string;
  topics: string[];
  handler: (event: CloudEvent<unknown>, transaction: PoolClient) => Promise<void>;
}

export interface BatchedDedupeConsumer {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createBatchedDedupeConsumer(options: BatchedDedupeOptions): BatchedDedupeConsumer {
  const { codec, pool, groupId, handler } = options;
  const subscriber = createKafkaJsSubscriber(options.kafka);
  const insert = `INSERT INTO ${options.table} (consumer_group, event_id) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING RETURNING event_id`;

  const handleBatch = async (batch: PartitionBatch): Promise<void> => {
    const events: CloudEvent<unknown>[] = [];
    for (const record of batch.records) events.push((await codec.decode(record)).event);
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const inserted = await client.query<{ event_id: string }>(insert, [groupId, events.map((e) => e.id)]);
      const fresh = new Set(inserted.rows.map((row) => row.event_id));
      for (const event of events) {
        if (!fresh.delete(event.id)) continue; // processed before, or twice in this batch
        await handler(event, client);
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    const last = batch.records[batch.records.length - 1]!;
    await subscriber.commit({ topic: batch.topic, partition: batch.partition, offset: String(BigInt(last.offset) + 1n) });
  };

  return {
    start: () => subscriber.run({ groupId, topics: options.topics, fromBeginning: true, handleBatch }),
    stop: () => subscriber.disconnect(),
  };
}
