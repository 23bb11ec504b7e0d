import { Pool } from 'pg';
import { createAvroCodec } from '@evkit/codec';
import { runConnectCli, waitUntilRunning, ConnectorFailedError } from '@evkit/connect';
import { createEvent } from '@evkit/envelope';
import { migrateOutbox } from '@evkit/outbox';
import { connect, createTopic, endpoints, ORDER_PLACED, orderPlacedSchema, readRecords, runId, startOutboxConnector, waitFor, type OutboxConnector } from './support';

// Rows that do not come from the writer. What Debezium 3.4's EventRouter does with them, found by
// reading and running it: a NULL payload becomes a record with a null value (a tombstone to the
// consumer), an empty one a record with an empty value; an UPDATE is logged and dropped under the
// default table.op.invalid.behavior=warn. The table's constraints refuse the first kind at INSERT;
// the shipped config sets `fatal`, which fails the task on an UPDATE: never a silent drop.
const run = runId();
const table = `evkit_it_outbox_${run}`;
const topic = `evkit.it.outbox.malformed.${run}`;
const pool = new Pool({ connectionString: endpoints.postgresUrl, max: 4 });
const codec = createAvroCodec({ registry: { url: endpoints.registryUrl } });
let connector: OutboxConnector;

beforeAll(async () => {
  await migrateOutbox(pool, { table });
  await createTopic(topic);
  connector = await startOutboxConnector(pool, run, table);
}, 120_000);

afterAll(async () => {
  await connector?.remove();
  await pool.query(`DROP TABLE IF EXISTS ${table}`);
  await pool.end();
}, 90_000);

/** A hand-written INSERT of the columns given; the rest of a valid row filled in. */
async function insertByHand(columns: Record<string, unknown>): Promise<void> {
  const row = {
    id: createEvent({ source: '/x', type: 't', data: null }).id,
    aggregatetype: topic,
    aggregateid: 'o-1',
    topic,
    type: ORDER_PLACED,
    payload: Buffer.from([0, 0, 0, 0, 1, 2]),
    source: '/by-hand',
    specversion: '1.0',
    time: '2026-01-01T00:00:00Z',
    datacontenttype: 'application/avro',
    ...columns,
  };
  const names = Object.keys(row);
  await pool.query(`INSERT INTO ${table} (${names.map((n) => `"${n}"`).join(', ')}) VALUES (${names.map((_, i) => `$${i + 1}`).join(', ')})`, Object.values(row));
}

describe('malformed outbox rows', () => {
  it.each([
    ['a NULL payload', { payload: null }, '23502'],
    ['an empty payload', { payload: Buffer.alloc(0) }, '23514'],
    ['a payload not in the Confluent wire format', { payload: Buffer.from('{"json":true}') }, '23514'],
    ['no aggregate id', { aggregateid: null }, '23502'],
    ['another spec version', { specversion: '0.3' }, '23514'],
    ['an empty optional attribute', { subject: '' }, '23514'],
    ['a topic Kafka would refuse', { topic: 'orders|x' }, '23514'],
    ['an id that is not a UUID', { id: 'order-1' }, '22P02'],
  ])('are refused by the table at INSERT: %s', async (_, columns, sqlState) => {
    await expect(insertByHand(columns)).rejects.toMatchObject({ code: sqlState });
  });

  it('a well-formed row inserted by hand is relayed with exactly the headers of a direct publish', async () => {
    const event = createEvent({ source: '/by-hand', type: ORDER_PLACED, partitionkey: 'o-9', data: { orderId: 'o-9', seq: 0 } });
    const record = await codec.encode(topic, event, orderPlacedSchema);
    // relay_route is left to the trigger, optional columns to NULL.
    await insertByHand({ id: event.id, aggregateid: 'o-9', source: event.source, time: event.time, payload: record.value });
    const [received] = await readRecords(topic, 1, { settleMs: 500 });
    expect(received!.headerOrder).toEqual(Object.keys(record.headers));
    expect(received!.value!.equals(record.value!)).toBe(true);
    expect((await codec.decode({ key: received!.key, value: received!.value, headers: received!.headers })).event.id).toBe(event.id);
  }, 60_000);

  it('an UPDATE fails the connector task loudly, with the trace, and evkit-connect status exits 1', async () => {
    await waitUntilRunning({ client: connect, name: connector.name, settleMs: 0 });
    await pool.query(`UPDATE ${table} SET type = 'changed'`);
    await waitFor('task FAILED', async () => (await connect.connectorStatus(connector.name)).tasks[0]?.state === 'FAILED');
    const error = await waitUntilRunning({ client: connect, name: connector.name }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectorFailedError);
    expect((error as ConnectorFailedError).message).toMatch(/task 0: .*IllegalStateException: Unexpected update message received/);
    const err: string[] = [];
    const code = await runConnectCli(['status', connector.name, '--url', endpoints.connectUrl], { env: {}, out: () => {}, err: (line) => err.push(line) });
    expect(code).toBe(1);
    expect(err[0]).toMatch(new RegExp(`^${connector.name} task 0 FAILED: .*Unexpected update message received`));
    expect(err.some((line) => line.includes('at io.debezium.transforms.outbox.EventRouterDelegate'))).toBe(true);
  }, 90_000);
});
