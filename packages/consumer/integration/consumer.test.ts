import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { Pool, type PoolClient } from 'pg';
import { createAvroCodec } from '@evkit/codec';
import { createPostgresIdempotencyStore } from '@evkit/idempotency';
import { createProducer, type Producer } from '@evkit/producer';
import { createFailureRouting } from '@evkit/retry';
import { createLocalStack } from '@evkit/stack';
import type { SubscriberTransport } from '@evkit/transport';
import { createKafkaJsPublisher, createKafkaJsSubscriber, createTopicsAndWait } from '@evkit/transport-kafkajs';
import { createConsumer, type Consumer, type ConsumerOptions, type EventHandler, type Middleware } from '@evkit/consumer';

// Against the real stack: Kafka for delivery, PostgreSQL for the processed-events table and the
// handler's own side effects, Apicurio for schemas. The effects table has no key on event_id: an
// effect applied twice shows as two rows.
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
type Data = { sku: string; seq: number };

const pool = new Pool({ connectionString: endpoints.postgresUrl, max: 20 });
const kafka = new Kafka({ clientId: 'evkit-it-consumer', brokers: endpoints.kafkaBrokers, logLevel: logLevel.NOTHING });
const kafkaOptions = { brokers: endpoints.kafkaBrokers, logLevel: logLevel.NOTHING, sessionTimeout: 10_000, heartbeatInterval: 1000 };
const codec = createAvroCodec({ registry: { url: endpoints.registryUrl } });
const store = createPostgresIdempotencyStore({ pool, table: `evkit_it_pe_${randomUUID().slice(0, 8)}` });
const effectsTable = `evkit_it_effects_${randomUUID().slice(0, 8)}`;
let producer: Producer;

beforeAll(async () => {
  await store.ensure();
  await pool.query(`create table ${effectsTable} (event_id text not null, sku text not null, seq int not null, handled_by text not null)`);
  producer = createProducer({ codec, source: '/it', kafka: { brokers: endpoints.kafkaBrokers, logLevel: logLevel.NOTHING } });
  await producer.connect();
});
afterAll(async () => {
  await producer.disconnect();
  await pool.query(`drop table if exists ${effectsTable}`);
  await pool.query(`drop table if exists ${store.table}`);
  await pool.end();
});

async function newTopic(partitions = PARTITIONS): Promise<string> {
  const topic = `evkit.it.consumer.${randomUUID()}`;
  const admin = kafka.admin();
  await admin.connect();
  await createTopicsAndWait(admin, [{ topic, numPartitions: partitions }]);
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

/** The side effect, in the same transaction as the processed-event row. */
const recordEffect = (name: string): EventHandler<Data, PoolClient> => async (event, context) => {
  await context.transaction!.query(
    `insert into ${effectsTable} (event_id, sku, seq, handled_by) values ($1, $2, $3, $4)`,
    [event.id, event.data.sku, event.data.seq, name],
  );
};

function consumerFor(topic: string, groupId: string, name: string, options: Partial<ConsumerOptions> = {}, handler = recordEffect(name)): Consumer {
  return createConsumer({
    groupId,
    topics: [topic],
    codec,
    idempotency: store,
    fromBeginning: true,
    keyConcurrency: 8,
    kafka: kafkaOptions,
    ...options,
  }).on<Data, PoolClient>(TYPE, handler);
}

async function effectsFor(ids: string[]): Promise<{ event_id: string; sku: string; seq: number }[]> {
  const { rows } = await pool.query(`select event_id, sku, seq from ${effectsTable} where event_id = any($1)`, [ids]);
  return rows as { event_id: string; sku: string; seq: number }[];
}

/** Every one of `ids` applied exactly once. */
async function expectExactlyOnce(ids: string[]): Promise<void> {
  const counts = new Map<string, number>();
  for (const { event_id } of await effectsFor(ids)) counts.set(event_id, (counts.get(event_id) ?? 0) + 1);
  expect([...new Set(ids)].filter((id) => counts.get(id) !== 1)).toEqual([]);
}

const caughtUp = (consumer: Consumer) => async () => (await consumer.lag()).every((p) => p.offsetLag === 0);

const countingDuplicates = (counter: { duplicates: number }): Partial<ConsumerOptions> => ({
  middleware: [
    (next) => async (event, context) => {
      await next(event, context);
      if (context.duplicate) counter.duplicates += 1;
    },
  ],
});

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

});

describe.each([
  ['per record', {}],
  ['dedupeBatching (a transaction per partition batch)', { dedupeBatching: true, keyConcurrency: 1 }],
] as [string, Partial<ConsumerOptions>][])('consumer with PostgreSQL dedupe, %s', (_, mode) => {
  it('absorbs the same record re-sent: one side effect', async () => {
    const topic = await newTopic();
    const [first] = await publishKeyed(topic, 1, 1);
    await producer.publish(topic, { id: first!.event.id, type: TYPE, partitionkey: first!.event.partitionkey!, data: first!.event.data }, schema);
    const consumer = consumerFor(topic, `evkit-it-${randomUUID()}`, 'a', mode);
    await consumer.start();
    await waitFor(caughtUp(consumer), 30_000);
    await consumer.stop();
    await expectExactlyOnce([first!.event.id]);
  }, 60_000);

  it('absorbs the redelivery after a consumer died between its database commit and its offset commit', async () => {
    const topic = await newTopic();
    const ids = (await publishKeyed(topic, 200, 20)).map((p) => p.event.id);
    const groupId = `evkit-it-${randomUUID()}`;
    // A subscriber whose offset commits never happen: the process dies right after each DB commit.
    const real = createKafkaJsSubscriber(kafkaOptions);
    const dying: SubscriberTransport = { ...real, connect: () => real.connect(), run: (o) => real.run(o), commit: () => Promise.resolve(), disconnect: () => real.disconnect() };
    const first = consumerFor(topic, groupId, 'first', { ...mode, transport: dying });
    await first.start();
    await waitFor(async () => (await effectsFor(ids)).length === 200, 60_000);
    await first.stop();
    await dying.disconnect(); // passed in, so ours to close: it leaves the group

    const counter = { duplicates: 0 };
    const second = consumerFor(topic, groupId, 'second', { ...mode, ...countingDuplicates(counter) });
    await second.start();
    await waitFor(caughtUp(second), 60_000);
    await second.stop();
    expect(counter.duplicates).toBe(200);
    await expectExactlyOnce(ids);
  }, 150_000);

  it('keeps side effects exactly once when a second consumer joins and leaves mid-stream', async () => {
    const topic = await newTopic();
    const ids = (await publishKeyed(topic, 600, 30)).map((p) => p.event.id);
    const groupId = `evkit-it-${randomUUID()}`;
    const slow = { ...mode, middleware: [(next: Parameters<Middleware>[0]) => async (e: Parameters<typeof next>[0], c: Parameters<typeof next>[1]) => {
      await new Promise((r) => setTimeout(r, 5));
      await next(e, c);
    }] };
    const a = consumerFor(topic, groupId, 'a', slow);
    await a.start();
    await waitFor(async () => (await effectsFor(ids)).length > 50, 60_000);
    const b = consumerFor(topic, groupId, 'b', slow);
    await b.start();
    await waitFor(async () => (await effectsFor(ids)).length > 300, 90_000);
    await b.stop();
    await waitFor(caughtUp(a), 90_000);
    await a.stop();
    await expectExactlyOnce(ids);
  }, 240_000);
});

describe('consumer with dedupeBatching: failures inside a batch', () => {
  const batched = (topic: string, name: string, handler: EventHandler<Data, PoolClient>, options: Partial<ConsumerOptions> = {}) =>
    consumerFor(topic, `evkit-it-${randomUUID()}`, name, { dedupeBatching: true, keyConcurrency: 1, failureBackoff: { initialMs: 50, maxMs: 200 }, ...options }, handler);

  it('keeps the records before a failed one, undoes the failed one, and applies it once on redelivery', async () => {
    const topic = await newTopic(1);
    const ids = (await publishKeyed(topic, 300, 10)).map((p) => p.event.id);
    const failOn = ids[150]!;
    const attempts: string[] = [];
    let committedBeforeRetry: number | undefined;
    const consumer = batched(topic, 'a', async (event, context) => {
      await recordEffect('a')(event, context);
      if (event.id !== failOn) return;
      attempts.push(event.id);
      if (attempts.length === 1) throw new Error('fails once, after its own insert');
      // The redelivery: what came before the failure was committed, once.
      committedBeforeRetry = (await effectsFor(ids.slice(0, 150))).length;
    });
    await consumer.start();
    await waitFor(caughtUp(consumer), 60_000);
    await consumer.stop();
    expect(attempts).toEqual([failOn, failOn]);
    expect(committedBeforeRetry).toBe(150);
    await expectExactlyOnce(ids);
  }, 90_000);

  it('absorbs duplicates within one batch and across batches', async () => {
    const topic = await newTopic(3);
    const published = await publishKeyed(topic, 200, 20);
    const resend = (items: typeof published) =>
      producer.publishBatch(topic, items.map((p) => ({ event: { id: p.event.id, type: TYPE, partitionkey: p.event.partitionkey!, data: p.event.data }, schema })));
    await resend(published.slice(0, 100)); // the same events again, same keys and partitions
    const counter = { duplicates: 0 };
    const consumer = batched(topic, 'a', recordEffect('a'), countingDuplicates(counter));
    await consumer.start();
    await waitFor(caughtUp(consumer), 60_000);
    await resend(published.slice(100, 150)); // later: other batches
    await waitFor(async () => counter.duplicates === 150, 30_000);
    await waitFor(caughtUp(consumer), 30_000);
    await consumer.stop();
    expect(counter.duplicates).toBe(150);
    await expectExactlyOnce(published.map((p) => p.event.id));
  }, 90_000);

  it('counts a record sent to a retry topic as handled, and applies it once from there', async () => {
    const topic = await newTopic(1);
    const ids = (await publishKeyed(topic, 100, 5)).map((p) => p.event.id);
    const groupId = `evkit-it-${randomUUID()}`;
    const publisher = createKafkaJsPublisher({ brokers: endpoints.kafkaBrokers, logLevel: logLevel.NOTHING });
    const routing = createFailureRouting({ publisher, groupId, delaysMs: [200], maxAttempts: 2, jitter: 0 });
    const failOn = ids[40]!;
    let failures = 0;
    const consumer = createConsumer(
      { groupId, topics: [topic], codec, idempotency: store, dedupeBatching: true, fromBeginning: true, kafka: kafkaOptions, middleware: [routing.middleware] },
    ).on<Data, PoolClient>(TYPE, async (event, context) => {
      await recordEffect('a')(event, context);
      if (event.id === failOn && failures++ === 0) throw new Error('fails once: off to the retry topic');
    });
    await consumer.start();
    await waitFor(async () => (await effectsFor(ids)).length === 100, 60_000);
    await waitFor(caughtUp(consumer), 30_000);
    await consumer.stop();
    await publisher.disconnect();
    expect(failures).toBe(2);
    await expectExactlyOnce(ids);
  }, 90_000);

  it("abandons a timed-out handler's work: its late write is refused, the records before it commit, the redelivery applies it once", async () => {
    const topic = await newTopic(1);
    const ids = (await publishKeyed(topic, 50, 5)).map((p) => p.event.id);
    const slowOn = ids[20]!;
    let slowCalls = 0;
    const refused: unknown[] = [];
    const counter = { duplicates: 0 };
    const handler: EventHandler<Data, PoolClient> = async (event, context) => {
      if (event.id === slowOn && slowCalls++ === 0) {
        await new Promise((r) => setTimeout(r, 500)); // ignores its signal
        await recordEffect('a')(event, context).catch((error: unknown) => {
          refused.push(error);
          throw error;
        });
        return;
      }
      await recordEffect('a')(event, context);
    };
    const consumer = batched(topic, 'a', handler, { handlerTimeoutMs: 100, ...countingDuplicates(counter) });
    await consumer.start();
    await waitFor(caughtUp(consumer), 60_000);
    await waitFor(async () => refused.length === 1, 5000);
    await consumer.stop();
    expect(slowCalls).toBe(2); // the redelivery ran it again: the first attempt left no row
    expect(refused.map((e) => (e as { code?: string }).code)).toEqual(['EVKIT_IDEMPOTENCY_ATTEMPT_ABANDONED']);
    expect(counter.duplicates).toBe(0); // the records before it were committed, not redelivered
    await expectExactlyOnce(ids);
  }, 90_000);
});
