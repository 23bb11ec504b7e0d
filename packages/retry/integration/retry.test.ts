import { randomUUID } from 'node:crypto';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { Pool, type PoolClient } from 'pg';
import { createAvroCodec } from '@evkit/codec';
import { createConsumer, type Consumer } from '@evkit/consumer';
import { createPostgresIdempotencyStore } from '@evkit/idempotency';
import { createProducer } from '@evkit/producer';
import { createFailureRouting, createReplayer, DLT_HEADERS } from '@evkit/retry';
import { createLocalStack } from '@evkit/stack';
import { createKafkaJsPublisher, createKafkaJsSubscriber, createTopicsAndWait } from '@evkit/transport-kafkajs';

// Retry tiers, the dead-letter topic and replay on the real stack.
const { endpoints } = createLocalStack();
const kafkaOptions = { brokers: endpoints.kafkaBrokers, logLevel: logLevel.NOTHING };
const kafka = new Kafka({ clientId: 'evkit-it-retry', ...kafkaOptions });
const codec = createAvroCodec({ registry: { url: endpoints.registryUrl } });
const schema = { type: 'record', name: 'ShipmentRequested', namespace: 'dev.evkit.it', fields: [{ name: 'orderId', type: 'string' }] };
const TYPE = 'dev.evkit.it.shipment.requested';
const pool = new Pool({ connectionString: endpoints.postgresUrl, max: 10 });
const store = createPostgresIdempotencyStore({ pool, table: `evkit_it_retry_pe_${randomUUID().slice(0, 8)}` });
const effects = `evkit_it_retry_fx_${randomUUID().slice(0, 8)}`;
const producer = createProducer({ codec, source: '/it', kafka: kafkaOptions });
const publisher = createKafkaJsPublisher(kafkaOptions);

beforeAll(async () => {
  await store.ensure();
  await pool.query(`create table ${effects} (event_id text primary key, order_id text not null)`);
  await producer.connect();
  await publisher.connect();
});
afterAll(async () => {
  await producer.disconnect();
  await publisher.disconnect();
  await pool.query(`drop table if exists ${effects}`);
  await pool.query(`drop table if exists ${store.table}`);
  await pool.end();
});

async function newTopic(configEntries: { name: string; value: string }[] = []): Promise<string> {
  const topic = `evkit.it.retry.${randomUUID()}`;
  const admin = kafka.admin();
  await admin.connect();
  await createTopicsAndWait(admin, [{ topic, numPartitions: 1, configEntries }]);
  await admin.disconnect();
  return topic;
}

async function readAll(topic: string, expected: number) {
  const consumer = kafka.consumer({ groupId: `evkit-it-read-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const records: { key: Buffer | null; value: Buffer | null; headers: Record<string, unknown>; offset: string }[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${records.length} of ${expected} records on ${topic}`)), 30_000);
    consumer
      .run({
        eachMessage: async ({ message }) => {
          records.push({ key: message.key, value: message.value, headers: message.headers ?? {}, offset: message.offset });
          if (records.length === expected) {
            clearTimeout(timer);
            resolve();
          }
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return records;
}

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

function consumerWith(topic: string, groupId: string, handler: (orderId: string, tx: PoolClient) => Promise<void>): Consumer {
  const routing = createFailureRouting({ publisher, groupId, delaysMs: [200, 400], maxAttempts: 3, jitter: 0 });
  return createConsumer(
    { groupId, topics: [topic], codec, idempotency: store, fromBeginning: true, kafka: { ...kafkaOptions, sessionTimeout: 10_000 }, middleware: [routing.middleware] },
  ).on<{ orderId: string }, PoolClient>(TYPE, async (event, context) => {
    await handler(event.data.orderId, context.transaction!);
    await context.transaction!.query(`insert into ${effects} (event_id, order_id) values ($1, $2)`, [event.id, event.data.orderId]);
  });
}

describe('retry topics, dead-letter topic and replay on Kafka', () => {
  it('dead-letters a poison record byte-for-byte while the records behind it are handled', async () => {
    const topic = await newTopic();
    const groupId = `evkit-it-${randomUUID()}`;
    const before = await producer.publish(topic, { type: TYPE, partitionkey: 'o-1', data: { orderId: 'before' } }, schema);
    const poison = { key: Buffer.from('o-1'), value: Buffer.from([0, 0, 0, 0, 1, 0xff, 0xff]), headers: { ce_id: 'poison-1', ce_source: '/x', ce_specversion: '1.0', ce_type: TYPE, 'x-note': 'kept' } };
    await publisher.send([{ topic, ...poison }]);
    const after = await producer.publish(topic, { type: TYPE, partitionkey: 'o-1', data: { orderId: 'after' } }, schema);
    const handled: string[] = [];
    const consumer = consumerWith(topic, groupId, async (orderId) => void handled.push(orderId));
    await consumer.start();
    await waitFor(() => handled.length === 2);
    await consumer.stop();
    expect(handled).toEqual(['before', 'after']);
    expect([before.event.id, after.event.id]).toHaveLength(2);

    const [dead] = await readAll(`${topic}.${groupId}.dlq`, 1);
    expect(dead!.key).toEqual(poison.key);
    expect(dead!.value).toEqual(poison.value);
    expect(String(dead!.headers['x-note'])).toBe('kept');
    expect(String(dead!.headers[DLT_HEADERS.originalTopic])).toBe(topic);
    expect((dead!.headers[DLT_HEADERS.originalOffset] as Buffer).readBigInt64BE()).toBe(1n);
    expect(String(dead!.headers[DLT_HEADERS.errorCode])).toMatch(/^EVKIT_CODEC_/);
  }, 90_000);

  it('routes records larger than the broker default through retry and dead-letter topics of a big-message topic, and moves on', async () => {
    const limit = 4 * 1024 * 1024;
    const topic = await newTopic([{ name: 'max.message.bytes', value: String(limit) }]);
    const groupId = `evkit-it-${randomUUID()}`;
    const big = 'x'.repeat(1_500_000); // over the broker's default 1 MiB
    await producer.publish(topic, { type: TYPE, partitionkey: 'o-3', data: { orderId: 'before' } }, schema);
    await producer.publish(topic, { type: TYPE, partitionkey: 'o-3', data: { orderId: big } }, schema);
    const poison = { key: Buffer.from('o-3'), value: Buffer.concat([Buffer.from([0, 0, 0, 0, 1]), Buffer.alloc(1_500_000, 0xff)]), headers: { 'x-note': 'big poison' } };
    await publisher.send([{ topic, ...poison }]);
    await producer.publish(topic, { type: TYPE, partitionkey: 'o-3', data: { orderId: 'after' } }, schema);
    const handled: string[] = [];
    const consumer = consumerWith(topic, groupId, async (orderId) => {
      if (orderId === big) throw new Error('too big to ship');
      handled.push(orderId);
    });
    await consumer.start();
    const dlq = `${topic}.${groupId}.dlq`;
    const dead = await readAll(dlq, 2);
    await waitFor(async () => (await consumer.lag()).filter((p) => p.topic === topic).every((p) => p.offsetLag === 0));
    await consumer.stop();
    expect(handled).toEqual(['before', 'after']);
    // Both dead-lettered whole: the undecodable one at once, the failing one after two retry topics.
    expect(dead.every((r) => r.value!.length > 1_500_000)).toBe(true);
    expect(dead.find((r) => String(r.headers['x-note']) === 'big poison')!.value).toEqual(poison.value);
    expect(dead.map((r) => String(r.headers[DLT_HEADERS.attempts])).sort()).toEqual(['1', '3']);

    const admin = kafka.admin();
    await admin.connect();
    const { resources } = await admin.describeConfigs({
      resources: [dlq, `${topic}.${groupId}.retry.200`, `${topic}.${groupId}.retry.400`].map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['max.message.bytes'] })),
      includeSynonyms: false,
    });
    await admin.disconnect();
    expect(resources.map((r) => Number(r.configEntries[0]!.configValue))).toEqual([limit + 65_536, limit + 65_536, limit + 65_536]);
  }, 120_000);

  it('succeeds on the third attempt through the retry topics', async () => {
    const topic = await newTopic();
    const groupId = `evkit-it-${randomUUID()}`;
    await producer.publish(topic, { type: TYPE, partitionkey: 'o-2', data: { orderId: 'flaky' } }, schema);
    const attempts: number[] = [];
    const consumer = consumerWith(topic, groupId, async () => {
      attempts.push(Date.now());
      if (attempts.length < 3) throw new Error('carrier API 503');
    });
    await consumer.start();
    await waitFor(async () => (await pool.query(`select 1 from ${effects} where order_id = 'flaky'`)).rowCount === 1);
    await consumer.stop();
    expect(attempts).toHaveLength(3);
    expect(attempts[1]! - attempts[0]!).toBeGreaterThanOrEqual(180); // the first tier's delay
    expect(attempts[2]! - attempts[1]!).toBeGreaterThanOrEqual(380); // the second tier's
  }, 90_000);

  it('after a fix, a replay makes each side effect happen exactly once, also when run twice', async () => {
    const topic = await newTopic();
    const groupId = `evkit-it-${randomUUID()}`;
    const orders = ['r-1', 'r-2', 'r-3'];
    for (const orderId of orders) await producer.publish(topic, { type: TYPE, partitionkey: orderId, data: { orderId } }, schema);
    let fixed = false;
    const consumer = consumerWith(topic, groupId, async () => {
      if (!fixed) throw new Error('address parser bug');
    });
    await consumer.start();
    const dlq = `${topic}.${groupId}.dlq`;
    const replayer = createReplayer({ publisher, subscriber: () => createKafkaJsSubscriber({ ...kafkaOptions, sessionTimeout: 10_000 }) });
    await waitFor(async () => (await replayer.list(dlq)).length === 3, 90_000);

    fixed = true;
    const first = await replayer.replay(dlq);
    expect(first).toMatchObject({ matched: 3, replayed: 3 });
    const second = await replayer.replay(dlq);
    expect(second).toMatchObject({ matched: 0, replayed: 0 });
    const forced = await replayer.replay(dlq, { key: 'r-1' }); // a new selection replays again: dedupe absorbs it
    expect(forced.replayed).toBe(1);

    const countOf = async () => Number((await pool.query<{ count: string }>(`select count(*) from ${effects} where order_id = any($1)`, [orders])).rows[0]!.count);
    await waitFor(async () => (await countOf()) === 3);
    await waitFor(async () => (await consumer.lag()).filter((p) => p.topic === topic).every((p) => p.offsetLag === 0));
    await consumer.stop();
    expect(await countOf()).toBe(3);
  }, 180_000);
});
