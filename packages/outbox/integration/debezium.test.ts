import { logLevel } from 'kafkajs';
import { Pool } from 'pg';
import { createAvroCodec, InvalidPayloadError } from '@evkit/codec';
import { createConsumer } from '@evkit/consumer';
import type { CloudEvent } from '@evkit/envelope';
import { createProducer } from '@evkit/producer';
import { partitionForKey } from '@evkit/transport';
import { createOutboxCleaner, createOutboxLagMonitor, createOutboxWriter, migrateOutbox, type OutboxWritten } from '@evkit/outbox';
import {
  connect,
  createTopic,
  endpoints,
  ORDER_PLACED,
  orderPlacedSchema,
  PARTITIONS,
  readRecords,
  runId,
  sleep,
  startOutboxConnector,
  waitFor,
  type OutboxConnector,
  type ReceivedRecord,
} from './support';

// The Debezium path against the real stack: PostgreSQL with logical WAL, Kafka Connect with
// Debezium and the shipped connector config, Kafka, Apicurio.
const run = runId();
const table = `evkit_it_outbox_${run}`;
const orders = `evkit_it_orders_${run}`;
const topic = `evkit.it.outbox.${run}`;
const pool = new Pool({ connectionString: endpoints.postgresUrl, max: 10 });
const codec = createAvroCodec({ registry: { url: endpoints.registryUrl } });
const writer = createOutboxWriter({ codec, source: '/it-orders', table });
let connector: OutboxConnector;

type OrderPlaced = { orderId: string; seq: number };

/** One business transaction: the order row and its event, committed together. */
async function placeOrder(orderId: string, seq: number, extra: Partial<CloudEvent<OrderPlaced>> = {}): Promise<OutboxWritten<OrderPlaced>> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`INSERT INTO ${orders} (order_id, seq) VALUES ($1, $2)`, [orderId, seq]);
    const written = await writer.write<OrderPlaced>(client, {
      aggregateType: topic,
      aggregateId: orderId,
      event: { type: ORDER_PLACED, data: { orderId, seq }, ...extra },
      schema: orderPlacedSchema,
    });
    await client.query('COMMIT');
    return written;
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

/** An event as a consumer sees it: plain data, the content type the codec writes. */
function comparable(event: CloudEvent<unknown>): unknown {
  return JSON.parse(JSON.stringify({ datacontenttype: 'application/avro', ...event }));
}

function expectSameRecord(received: ReceivedRecord, written: OutboxWritten<unknown>): void {
  const { key, value, headers } = written.record;
  expect(received.key).toEqual(Buffer.from(key as string));
  expect(received.value!.equals(value!)).toBe(true);
  // Same headers, same bytes, same order; nothing more (no `id`, no __debezium.* context headers).
  expect(received.headerOrder).toEqual(Object.keys(headers));
  for (const [name, expected] of Object.entries(headers)) expect(received.headers[name]).toEqual(Buffer.from(expected as string));
  // Java's default partitioner in Connect's producer and evkit's murmur2 agree.
  expect(received.partition).toBe(partitionForKey(Buffer.from(key as string), PARTITIONS));
}

beforeAll(async () => {
  await migrateOutbox(pool, { table });
  await pool.query(`CREATE TABLE ${orders} (order_id text NOT NULL, seq int NOT NULL)`);
  await createTopic(topic);
  connector = await startOutboxConnector(pool, run, table);
}, 120_000);

afterAll(async () => {
  await connector?.remove();
  await pool.query(`DROP TABLE IF EXISTS ${table}, ${orders}`);
  await pool.end();
}, 90_000);

describe('outbox relayed by Debezium', () => {
  let relayed: ReceivedRecord[];
  const written: OutboxWritten<OrderPlaced>[] = [];

  it('N business transactions give exactly N records, each the record a direct publish sends, byte for byte', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    for (let i = 0; i < 20; i += 1) {
      // Every optional attribute present on some events and absent on others: absent ones must
      // not arrive as null-valued headers.
      const extra = i % 3 === 0 ? { subject: `order/o-${i % 5}`, correlationid: `flow-${i}`, causationid: `cause-${i}`, traceparent, tracestate: 'evkit=1', dataschema: 'urn:evkit:order-placed' } : {};
      written.push(await placeOrder(`o-${i % 5}`, Math.floor(i / 5), extra));
    }
    // A rolled-back transaction and one whose event breaks its schema write nothing.
    const client = await pool.connect();
    let rolledBack: OutboxWritten<OrderPlaced>;
    try {
      await client.query('BEGIN');
      rolledBack = await writer.write(client, { aggregateType: topic, aggregateId: 'o-x', event: { type: ORDER_PLACED, data: { orderId: 'o-x', seq: 0 } }, schema: orderPlacedSchema });
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    await expect(placeOrder('o-y', 0, { data: { orderId: 'o-y', seq: 'one' } as never })).rejects.toBeInstanceOf(InvalidPayloadError);
    expect((await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${orders}`)).rows[0]!.n).toBe(20);

    relayed = await readRecords(topic, written.length);
    expect(relayed).toHaveLength(written.length);
    const byId = new Map(relayed.map((r) => [r.headers.ce_id!.toString(), r]));
    expect(byId.has(rolledBack!.event.id)).toBe(false);
    for (const w of written) expectSameRecord(byId.get(w.event.id)!, w);
    // And they decode into the events written.
    for (const w of written) {
      const { event } = await codec.decode<OrderPlaced>({ key: byId.get(w.event.id)!.key, value: byId.get(w.event.id)!.value, headers: byId.get(w.event.id)!.headers });
      expect(comparable(event)).toEqual(comparable(w.event));
    }
  }, 120_000);

  it('keeps each aggregate\'s events in commit order', () => {
    const seqByOrder = new Map<string, number[]>();
    for (const record of [...relayed].sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset))) {
      const w = written.find((x) => x.event.id === record.headers.ce_id!.toString())!;
      seqByOrder.set(w.event.data.orderId, [...(seqByOrder.get(w.event.data.orderId) ?? []), w.event.data.seq]);
    }
    for (const seqs of seqByOrder.values()) expect(seqs).toEqual([0, 1, 2, 3]);
  });

  it('one consumer reads a relayed event and a directly published one alike', async () => {
    const producer = createProducer({ codec, source: '/it-orders', kafka: { brokers: endpoints.kafkaBrokers, logLevel: logLevel.NOTHING } });
    const direct = await producer.publish(topic, { type: ORDER_PLACED, partitionkey: 'o-direct', data: { orderId: 'o-direct', seq: 0 } }, orderPlacedSchema);
    await producer.disconnect();
    const viaOutbox = await placeOrder('o-outbox', 0);
    const handled = new Map<string, CloudEvent<OrderPlaced>>();
    const consumer = createConsumer({ groupId: `evkit-it-outbox-${run}`, topics: [topic], codec, fromBeginning: true, kafka: { brokers: endpoints.kafkaBrokers, logLevel: logLevel.NOTHING } }).on<OrderPlaced>(
      ORDER_PLACED,
      async (event) => {
        handled.set(event.id, event);
      },
      { readerSchema: orderPlacedSchema },
    );
    await consumer.start();
    try {
      await waitFor('both events handled', async () => handled.has(direct.event.id) && handled.has(viaOutbox.event.id));
    } finally {
      await consumer.stop();
    }
    expect(comparable(handled.get(viaOutbox.event.id)!)).toEqual(comparable(viaOutbox.event));
    expect(comparable(handled.get(direct.event.id)!)).toEqual(comparable(direct.event));
  }, 90_000);

  it('reports the slot lag, and retention deletes rows without a record or a failure', async () => {
    const lag = createOutboxLagMonitor({ pool, table, relay: 'debezium', slotName: connector.slot });
    const { slot } = await lag.read();
    lag.close();
    expect(slot).toMatchObject({ name: connector.slot, active: true });
    expect(slot!.lagBytes).toBeGreaterThanOrEqual(0);

    const before = (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;
    expect(await createOutboxCleaner({ pool, table, relay: 'debezium' }).deleteOlderThan(0)).toBe(before);
    // The EventRouter ignores the DELETEs: the topic gains nothing, the task keeps running.
    await sleep(3000);
    expect(await readRecords(topic, written.length + 2)).toHaveLength(written.length + 2);
    expect((await connect.connectorStatus(connector.name)).tasks[0]!.state).toBe('RUNNING');
  }, 60_000);
});
