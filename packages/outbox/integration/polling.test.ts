import { logLevel } from 'kafkajs';
import { Pool } from 'pg';
import { createAvroCodec } from '@evkit/codec';
import { partitionForKey } from '@evkit/transport';
import { createKafkaJsPublisher } from '@evkit/transport-kafkajs';
import {
  createOutboxCleaner,
  createOutboxLagMonitor,
  createOutboxWriter,
  createPollingRelay,
  migrateOutbox,
  type OutboxWritten,
  type PollingRelay,
} from '@evkit/outbox';
import { createTopic, endpoints, ORDER_PLACED, orderPlacedSchema, PARTITIONS, readRecords, runId, sleep } from './support';

// The polling relay against PostgreSQL and Kafka: the same guarantees as the Debezium path, with
// two relays at once.
const run = runId();
const pool = new Pool({ connectionString: endpoints.postgresUrl, max: 20 });
const codec = createAvroCodec({ registry: { url: endpoints.registryUrl } });
const kafka = { brokers: endpoints.kafkaBrokers, logLevel: logLevel.NOTHING };
const tables: string[] = [];

type OrderPlaced = { orderId: string; seq: number };

/** A fresh outbox table and topic, and a writer for them. */
async function outbox(name: string) {
  const table = `evkit_it_poll_${name}_${run}`;
  const topic = `evkit.it.outbox.poll.${name}.${run}`;
  tables.push(table);
  await migrateOutbox(pool, { table });
  await createTopic(topic);
  const writer = createOutboxWriter({ codec, source: '/it-orders', table });
  const placeOrder = async (orderId: string, seq: number, rollback = false): Promise<OutboxWritten<OrderPlaced>> => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const written = await writer.write<OrderPlaced>(client, { aggregateType: topic, aggregateId: orderId, event: { type: ORDER_PLACED, data: { orderId, seq } }, schema: orderPlacedSchema });
      await client.query(rollback ? 'ROLLBACK' : 'COMMIT');
      return written;
    } finally {
      client.release();
    }
  };
  return { table, topic, placeOrder };
}

afterAll(async () => {
  for (const table of tables) await pool.query(`DROP TABLE IF EXISTS ${table}`);
  await pool.end();
});

async function seqsByOrder(topic: string, count: number): Promise<{ seqs: Map<string, number[]>; ids: string[] }> {
  const records = (await readRecords(topic, count)).sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
  const seqs = new Map<string, number[]>();
  for (const record of records) {
    const { event } = await codec.decode<OrderPlaced>({ key: record.key, value: record.value, headers: record.headers });
    seqs.set(event.data.orderId, [...(seqs.get(event.data.orderId) ?? []), event.data.seq]);
  }
  return { seqs, ids: records.map((r) => r.headers.ce_id!.toString()) };
}

describe('polling relay', () => {
  it('relays N committed transactions as exactly N records, each the record a direct publish sends; none for a rollback', async () => {
    const { table, topic, placeOrder } = await outbox('basic');
    const written: OutboxWritten<OrderPlaced>[] = [];
    for (let i = 0; i < 30; i += 1) written.push(await placeOrder(`o-${i % 4}`, Math.floor(i / 4)));
    const rolledBack = await placeOrder('o-x', 0, true);

    const lag = createOutboxLagMonitor({ pool, table, relay: 'polling' });
    await sleep(50);
    expect((await lag.read()).oldestUnrelayedAgeMs).toBeGreaterThanOrEqual(50);

    const errors: unknown[] = [];
    const relay = createPollingRelay({ pool, table, kafka, batchSize: 8, intervalMs: 50, onError: (e) => errors.push(e) });
    relay.start();
    const records = await readRecords(topic, written.length);
    await relay.stop();
    expect(errors).toEqual([]);
    expect(records).toHaveLength(written.length);
    const byId = new Map(records.map((r) => [r.headers.ce_id!.toString(), r]));
    expect(byId.has(rolledBack.event.id)).toBe(false);
    for (const { event, record } of written) {
      const received = byId.get(event.id)!;
      expect(received.key).toEqual(Buffer.from(record.key as string));
      expect(received.value!.equals(record.value!)).toBe(true);
      expect(received.headerOrder).toEqual(Object.keys(record.headers));
      for (const [name, value] of Object.entries(record.headers)) expect(received.headers[name]).toEqual(Buffer.from(value as string));
      expect(received.partition).toBe(partitionForKey(Buffer.from(record.key as string), PARTITIONS));
    }
    expect((await lag.read()).oldestUnrelayedAgeMs).toBe(0);
    lag.close();
    expect((await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE sent_at IS NULL`)).rows[0]!.n).toBe(0);
  }, 90_000);

  it('two relays at once keep every aggregate\'s order and relay each row once', async () => {
    const { topic, table, placeOrder } = await outbox('pair');
    const aggregates = 12;
    const perAggregate = 25;
    // Interleaved aggregates, written concurrently in small groups: seq order per aggregate.
    for (let seq = 0; seq < perAggregate; seq += 1) {
      await Promise.all(Array.from({ length: aggregates }, (_, a) => placeOrder(`o-${a}`, seq)));
    }
    const relayed = [0, 0];
    const errors: unknown[] = [];
    const transports = [createKafkaJsPublisher(kafka), createKafkaJsPublisher(kafka)];
    const relays: PollingRelay[] = [0, 1].map((i) =>
      createPollingRelay({
        pool,
        table,
        transport: transports[i]!,
        batchSize: 5,
        intervalMs: 20,
        onError: (e) => errors.push(e),
        onRelayed: (count) => (relayed[i]! += count),
      }),
    );
    for (const relay of relays) relay.start();
    const { seqs, ids } = await seqsByOrder(topic, aggregates * perAggregate);
    await Promise.all(relays.map((relay) => relay.stop()));
    await Promise.all(transports.map((transport) => transport.disconnect()));
    expect(errors).toEqual([]);
    expect(ids).toHaveLength(aggregates * perAggregate);
    expect(new Set(ids).size).toBe(ids.length);
    for (const list of seqs.values()) expect(list).toEqual(Array.from({ length: perAggregate }, (_, i) => i));
    // Both did part of the work.
    expect(relayed[0]).toBeGreaterThan(0);
    expect(relayed[1]).toBeGreaterThan(0);
    expect(relayed[0]! + relayed[1]!).toBe(ids.length);
  }, 120_000);

  it('wakes on the writer\'s NOTIFY: commit → relayed well under a second with a 10 s fallback interval, also after losing its listening connection', async () => {
    const { table, topic, placeOrder } = await outbox('notify');
    const relayedAt: number[] = [];
    const errors: unknown[] = [];
    const relay = createPollingRelay({ pool, table, kafka, intervalMs: 10_000, onError: (e) => errors.push(e), onRelayed: () => relayedAt.push(Date.now()) });
    const listenerPid = async () =>
      (await pool.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE query = $1 AND pid <> pg_backend_pid()`, [`LISTEN "${table}_wake"`])).rows[0]?.pid;
    const waitFor = async <T>(what: () => Promise<T | undefined>, ms = 5000): Promise<T> => {
      const deadline = Date.now() + ms;
      for (;;) {
        const value = await what();
        if (value !== undefined) return value;
        if (Date.now() > deadline) throw new Error('timed out');
        await sleep(20);
      }
    };
    relay.start();
    const firstPid = await waitFor(listenerPid);
    await sleep(300); // the batch run on listening has ended: the interval is all that is left
    const latencies: number[] = [];
    const commitAndWait = async (i: number) => {
      const before = relayedAt.length;
      await placeOrder(`o-${i}`, 0);
      const committed = Date.now();
      await waitFor(async () => (relayedAt.length > before ? true : undefined), 9000);
      latencies.push(relayedAt[before]! - committed);
    };
    for (let i = 0; i < 5; i += 1) {
      await commitAndWait(i);
      await sleep(100);
    }
    // The listening connection dies: the relay connects again, listens again, and relays what
    // was committed meanwhile without waiting for its interval.
    await pool.query('SELECT pg_terminate_backend($1)', [firstPid]);
    await placeOrder('o-lost', 0);
    const lostAt = Date.now();
    await waitFor(async () => (relayedAt.length >= 6 ? true : undefined), 9000);
    const afterLoss = relayedAt[5]! - lostAt;
    const secondPid = await waitFor(listenerPid);
    await sleep(300);
    await commitAndWait(6);
    await relay.stop();
    expect(await listenerPid()).toBeUndefined();
    expect(secondPid).not.toBe(firstPid);
    expect(latencies).toHaveLength(6);
    for (const latency of latencies) expect(latency).toBeLessThan(500);
    expect(afterLoss).toBeLessThan(3000);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'EVKIT_OUTBOX_DATABASE_FAILED', retriable: true });
    expect(await readRecords(topic, 7, { settleMs: 500 })).toHaveLength(7);
    console.log(`commit → relayed (ms): ${latencies.join(', ')}; after a lost listener: ${afterLoss}`);
  }, 90_000);

  it('retention deletes sent rows past the age and keeps unsent ones', async () => {
    const { table, placeOrder } = await outbox('retention');
    await placeOrder('o-1', 0);
    await placeOrder('o-1', 1);
    const relay = createPollingRelay({ pool, table, kafka, batchSize: 1, onError: (e) => { throw e; } });
    expect(await relay.relayBatch()).toBe(1);
    await relay.stop();
    const cleaner = createOutboxCleaner({ pool, table, relay: 'polling' });
    expect(await cleaner.deleteOlderThan(60_000)).toBe(0);
    expect(await cleaner.deleteOlderThan(0)).toBe(1);
    const { rows } = await pool.query<{ sent_at: Date | null }>(`SELECT sent_at FROM ${table}`);
    expect(rows).toEqual([{ sent_at: null }]);
  }, 60_000);
});
