import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { Pool, type PoolClient } from 'pg';
import { createAvroCodec } from '@evkit/codec';
import { createPostgresIdempotencyStore } from '@evkit/idempotency';
import { createProducer, type Producer } from '@evkit/producer';
import { createLocalStack } from '@evkit/stack';
import type { SubscriberTransport } from '@evkit/transport';
import { createKafkaJsSubscriber } from '@evkit/transport-kafkajs';
import { createConsumer, type Consumer, type ConsumerOptions } from '@evkit/consumer';

// Against the real stack: Kafka for delivery, PostgreSQL for the processed-events table and the
// handler's own side effects, Apicurio for schemas.
const { endpoints } = createLocalStack();
const schema = {
  type: 'record',
  name: 'StockReserved',
  namespace: 'dev.evkit.it',
  fields: [
    { name: 'sku', type: 'string' },
    { name: 'seq', type: 'int' },
  ],
};
const TYPE = 'dev.evkit.it.stock.reserved';
const PARTITIONS = 6;

const pool = new Pool({ connectionString: endpoints.postgresUrl, max: 20 });
const kafka = new Kafka({ clientId: 'evkit-it-consumer', brokers: endpoints.kafkaBrokers, logLevel: logLevel.NOTHING });
const codec = createAvroCodec({ registry: { url: endpoints.registryUrl } });
const store = createPostgresIdempotencyStore({ pool, table: `evkit_it_pe_${randomUUID().slice(0, 8)}` });
const effectsTable = `evkit_it_effects_${randomUUID().slice(0, 8)}`;
let producer: Producer;

beforeAll(async () => {
  await store.ensure();
  await pool.query(`create table ${effectsTable} (event_id text primary key, sku text not null, seq int not null, handled_by text not null)`);
  producer = createProducer({ codec, source: '/it', kafka: { brokers: endpoints.kafkaBrokers, logLevel: logLevel.NOTHING } });
  await producer.connect();
});
afterAll(async () => {
  await producer.disconnect();
  await pool.query(`drop table if exists ${effectsTable}`);
  await pool.query(`drop table if exists ${store.table}`);
  await pool.end();
});

async function newTopic(): Promise<string> {
  const topic = `evkit.it.consumer.${randomUUID()}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
  await admin.disconnect();
  return topic;
}

async function publishKeyed(topic: string, count: number, keys: number) {
  const perKey = new Map<string, number>();
  const items = Array.from({ length: count }, () => {
    const sku = `sku-${Math.floor(Math.random() * keys)}`;
    const seq = perKey.get(sku) ?? 0;
    perKey.set(sku, seq + 1);
    return { event: { type: TYPE, partitionkey: sku, data: { sku, seq } }, schema };
  });
  const published = [];
  for (let i = 0; i < items.length; i += 500) published.push(...(await producer.publishBatch(topic, items.slice(i, i + 500))));
  return published;
}

function consumerFor(topic: string, groupId: string, name: string, options: Partial<ConsumerOptions> = {}): Consumer {
  return createConsumer({
    groupId,
    topics: [topic],
    codec,
    idempotency: store,
    fromBeginning: true,
    keyConcurrency: 8,
    kafka: { brokers: endpoints.kafkaBrokers, logLevel: logLevel.NOTHING, sessionTimeout: 10_000, heartbeatInterval: 1000 },
    ...options,
  }).on<{ sku: string; seq: number }, PoolClient>(TYPE, async (event, context) => {
    // The side effect, in the same transaction as the processed-event row.
    await context.transaction!.query(
      `insert into ${effectsTable} (event_id, sku, seq, handled_by) values ($1, $2, $3, $4)`,
      [event.id, event.data.sku, event.data.seq, name],
    );
  });
}

async function effectsFor(ids: string[]): Promise<{ event_id: string; sku: string; seq: number }[]> {
  const { rows } = await pool.query(`select event_id, sku, seq from ${effectsTable} where event_id = any($1)`, [ids]);
  return rows as { event_id: string; sku: string; seq: number }[];
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('consumer against Kafka and PostgreSQL', () => {
  it('handles 10,000 keyed events across partitions with concurrent handlers and no per-key order violation', async () => {
    const topic = await newTopic();
    const published = await publishKeyed(topic, 10_000, 200);
    const order = new Map<string, number>();
    let violations = 0;
    const consumer = createConsumer({
      groupId: `evkit-it-${randomUUID()}`,
      topics: [topic],
      codec,
      fromBeginning: true,
      keyConcurrency: 16,
      kafka: { brokers: endpoints.kafkaBrokers, logLevel: logLevel.NOTHING },
    }).on<{ sku: string; seq: number }>(TYPE, async (event) => {
      await new Promise((r) => setImmediate(r));
      const last = order.get(event.data.sku) ?? -1;
      if (event.data.seq !== last + 1) violations += 1;
      order.set(event.data.sku, event.data.seq);
    });
    await consumer.start();
    await waitFor(async () => (await consumer.lag()).reduce((s, p) => s + p.offsetLag, 0) === 0, 90_000);
    await consumer.stop();
    expect(violations).toBe(0);
    expect([...order.values()].reduce((s, last) => s + last + 1, 0)).toBe(published.length);
  }, 120_000);

  it('absorbs the same record re-sent: one side effect', async () => {
    const topic = await newTopic();
    const [first] = await publishKeyed(topic, 1, 1);
    await producer.publish(topic, { id: first!.event.id, type: TYPE, partitionkey: first!.event.partitionkey!, data: first!.event.data }, schema);
    const consumer = consumerFor(topic, `evkit-it-${randomUUID()}`, 'a');
    await consumer.start();
    await waitFor(async () => (await consumer.lag()).every((p) => p.offsetLag === 0), 30_000);
    await consumer.stop();
    expect(await effectsFor([first!.event.id])).toHaveLength(1);
  }, 60_000);

  it('absorbs the redelivery after a consumer died between its handler commit and its offset commit', async () => {
    const topic = await newTopic();
    const published = await publishKeyed(topic, 200, 20);
    const groupId = `evkit-it-${randomUUID()}`;
    // A subscriber whose offset commits never happen: the process dies right after each handler.
    const real = createKafkaJsSubscriber({ brokers: endpoints.kafkaBrokers, logLevel: logLevel.NOTHING, sessionTimeout: 10_000 });
    const dying: SubscriberTransport = { ...real, connect: () => real.connect(), run: (o) => real.run(o), commit: () => Promise.resolve(), disconnect: () => real.disconnect() };
    const first = consumerFor(topic, groupId, 'first', { transport: dying });
    await first.start();
    await waitFor(async () => (await effectsFor(published.map((p) => p.event.id))).length === 200, 60_000);
    await first.stop();

    let duplicates = 0;
    const second = consumerFor(topic, groupId, 'second', {
      middleware: [(next) => async (event, context) => {
        await next(event, context);
        if (context.duplicate) duplicates += 1;
      }],
    });
    await second.start();
    await waitFor(async () => (await second.lag()).every((p) => p.offsetLag === 0), 60_000);
    await second.stop();
    expect(duplicates).toBe(200);
    expect(await effectsFor(published.map((p) => p.event.id))).toHaveLength(200);
  }, 150_000);

  it('keeps side effects exactly once when a second consumer joins and leaves mid-stream', async () => {
    const topic = await newTopic();
    const published = await publishKeyed(topic, 600, 30);
    const groupId = `evkit-it-${randomUUID()}`;
    const slow = { middleware: [(next: Parameters<NonNullable<ConsumerOptions['middleware']>[number]>[0]) => async (e: Parameters<typeof next>[0], c: Parameters<typeof next>[1]) => {
      await new Promise((r) => setTimeout(r, 5));
      await next(e, c);
    }] };
    const a = consumerFor(topic, groupId, 'a', slow);
    await a.start();
    await waitFor(async () => (await effectsFor(published.map((p) => p.event.id))).length > 50, 60_000);
    const b = consumerFor(topic, groupId, 'b', slow);
    await b.start();
    await waitFor(async () => (await effectsFor(published.map((p) => p.event.id))).length > 300, 90_000);
    await b.stop();
    await waitFor(async () => (await a.lag()).every((p) => p.offsetLag === 0), 90_000);
    await a.stop();
    const effects = await effectsFor(published.map((p) => p.event.id));
    expect(effects).toHaveLength(600);
  }, 240_000);
});
