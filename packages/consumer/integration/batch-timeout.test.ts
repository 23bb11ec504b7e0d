import { randomUUID } from 'node:crypto';
import { Pool, type PoolClient } from 'pg';
import { createAvroCodec, createInMemoryRegistry } from '@evkit/codec';
import { createConsumer, type EventHandler } from '@evkit/consumer';
import { createEvent } from '@evkit/envelope';
import { isEvkitError } from '@evkit/errors';
import { createPostgresIdempotencyStore } from '@evkit/idempotency';
import { createFailureRouting, type FailureRoutingOptions } from '@evkit/retry';
import { createLocalStack } from '@evkit/stack';
import { createInMemoryBroker, type IncomingRecord } from '@evkit/transport';

// dedupeBatching with a handler that times out (issue #14): the attempt is abandoned, its work
// rolled back to its savepoint, and the batch goes on; failure routing retries it and
// dead-letters it once; the other records commit once. The in-memory broker delivers, the
// PostgreSQL store dedupes for real.
const { endpoints } = createLocalStack();
const pool = new Pool({ connectionString: endpoints.postgresUrl, max: 6 });
const store = createPostgresIdempotencyStore({ pool, table: `evkit_it_bt_${randomUUID().slice(0, 8).replaceAll('-', '')}` });
const effects = `${store.table}_effects`;
const schema = { type: 'record', name: 'Parcel', fields: [{ name: 'key', type: 'string' }, { name: 'seq', type: 'int' }] };
const TYPE = 'dev.evkit.it.parcel';
const TOPIC = 'parcels';
const HUNG = 'hung';
type Data = { key: string; seq: number };

beforeAll(async () => {
  await store.ensure();
  await pool.query(`CREATE TABLE ${effects} (event_id text NOT NULL, key text NOT NULL, seq int NOT NULL)`);
});
afterAll(async () => {
  await store.close();
  await pool.query(`DROP TABLE IF EXISTS ${effects}`);
  await pool.query(`DROP TABLE IF EXISTS ${store.table}`);
  await pool.end();
});

const writeEffect = (event: { id: string; data: Data }, tx: PoolClient) =>
  tx.query(`INSERT INTO ${effects} (event_id, key, seq) VALUES ($1, $2, $3)`, [event.id, event.data.key, event.data.seq]);

/** 12 events on one partition; the 6th is the hung key's. */
async function run(mode: FailureRoutingOptions['mode'], hung: EventHandler<Data, PoolClient>, until: (dlq: IncomingRecord[], ids: string[]) => Promise<boolean>) {
  const groupId = `g-${randomUUID()}`;
  const broker = createInMemoryBroker({ partitionsPerTopic: 1 });
  broker.createTopic(TOPIC, 1);
  const codec = createAvroCodec({ registry: createInMemoryRegistry() });
  const events = Array.from({ length: 12 }, (_, seq) => createEvent({ source: '/it', type: TYPE, partitionkey: seq === 5 ? HUNG : `k-${seq % 3}`, data: { key: seq === 5 ? HUNG : `k-${seq % 3}`, seq } }));
  await broker.publisher().send(await Promise.all(events.map(async (event) => ({ topic: TOPIC, ...(await codec.encode(TOPIC, event, schema)) }))));
  const routing = createFailureRouting({ publisher: broker.publisher(), groupId, mode, maxAttempts: 3, delaysMs: [10, 20], jitter: 0 });
  const calls = { hung: 0 };
  const consumer = createConsumer({
    groupId,
    topics: [TOPIC],
    codec,
    transport: broker.subscriber(),
    fromBeginning: true,
    idempotency: store,
    dedupeBatching: true,
    handlerTimeoutMs: 200,
    failureBackoff: { initialMs: 20, maxMs: 50 },
    middleware: [routing.middleware],
  }).on<Data, PoolClient>(TYPE, async (event, context) => {
    if (event.data.key !== HUNG) return void (await writeEffect(event, context.transaction!));
    calls.hung += 1;
    await hung(event, context);
  });
  const dlq = () => {
    try {
      return broker.topic(`${TOPIC}.${groupId}.dlq`).records();
    } catch {
      return []; // not created yet: nothing dead-lettered
    }
  };
  const ids = events.map((e) => e.id);
  await consumer.start();
  try {
    const deadline = Date.now() + 20_000;
    while (!(await until(dlq(), ids))) {
      if (Date.now() > deadline) throw new Error('not settled in time');
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 500)); // any further attempt or dead letter would show
  } finally {
    await consumer.stop();
  }
  return { calls, dlq: dlq(), ids, hungId: events[5]!.id, groupId };
}

async function effectCounts(ids: string[]): Promise<Map<string, number>> {
  const { rows } = await pool.query<{ event_id: string; n: number }>(`SELECT event_id, count(*)::int AS n FROM ${effects} WHERE event_id = ANY($1) GROUP BY event_id`, [ids]);
  return new Map(rows.map((r) => [r.event_id, r.n]));
}

const othersDone = async (dlq: IncomingRecord[], ids: string[]) => dlq.length >= 1 && (await effectCounts(ids)).size === ids.length - 1;

async function expectHungDeadLetteredOnceAndOthersOnce(result: Awaited<ReturnType<typeof run>>) {
  expect(result.calls.hung).toBe(3);
  expect(result.dlq).toHaveLength(1);
  expect(result.dlq[0]!.headers.ce_id?.toString()).toBe(result.hungId);
  expect(result.dlq[0]!.headers['evkit_dlt-error-code']?.toString()).toBe('EVKIT_CONSUMER_HANDLER_TIMEOUT');
  expect(result.dlq[0]!.headers['evkit_dlt-attempts']?.toString()).toBe('3');
  const counts = await effectCounts(result.ids);
  expect(result.ids.filter((id) => id !== result.hungId && counts.get(id) !== 1)).toEqual([]);
  expect(counts.get(result.hungId)).toBeUndefined(); // its writes before the hang were rolled back
  const { rows } = await pool.query(`SELECT 1 FROM ${store.table} WHERE consumer_group = $1 AND event_id = $2`, [result.groupId, result.hungId]);
  expect(rows).toHaveLength(0); // no processed-event row: its claim was dropped
}

describe.each(['non-blocking', 'blocking'] as const)('dedupeBatching and a handler that times out (%s)', (mode) => {
  it('that writes, then never settles: rolled back to its savepoint, dead-lettered once; the batch goes on', async () => {
    const result = await run(
      mode,
      async (event, context) => {
        await writeEffect(event, context.transaction!);
        await new Promise<never>(() => undefined);
      },
      othersDone,
    );
    await expectHungDeadLetteredOnceAndOthersOnce(result);
  }, 30_000);

  it('that ignores its signal and writes late: the late write is refused and nothing of it commits', async () => {
    const refused: unknown[] = [];
    const result = await run(
      mode,
      async (event, context) => {
        await new Promise((r) => setTimeout(r, 400));
        try {
          await writeEffect(event, context.transaction!);
        } catch (error) {
          refused.push(error);
          throw error;
        }
      },
      async (dlq, ids) => (await othersDone(dlq, ids)) && refused.length === 3,
    );
    await expectHungDeadLetteredOnceAndOthersOnce(result);
    expect(refused.map((e) => (isEvkitError(e) ? e.code : String(e)))).toEqual(Array(3).fill('EVKIT_IDEMPOTENCY_ATTEMPT_ABANDONED'));
  }, 30_000);
});

it('breaks the batch when the abandoned statement is stuck in the database past the bound: redelivered, each event applied once', async () => {
  // The first attempt's statement outlives the store's 2 s bound; later attempts succeed at once.
  // Until that statement ends, the destroyed session still holds the batch's claims: the retry
  // copy's attempts may time out on them and dead-letter it (its effect is applied all the same).
  let stuck = true;
  const result = await run(
    'non-blocking',
    async (event, context) => {
      if (stuck) {
        stuck = false;
        await context.transaction!.query('SELECT pg_sleep(3)');
      }
      await writeEffect(event, context.transaction!);
    },
    async (_dlq, ids) => (await effectCounts(ids)).size === ids.length,
  );
  const counts = await effectCounts(result.ids);
  expect(result.ids.filter((id) => counts.get(id) !== 1)).toEqual([]);
  // The batch was redelivered: the hung record ran again from the source.
  expect(result.calls.hung).toBe(2);
  expect(result.dlq.length).toBeLessThanOrEqual(1);
}, 40_000);
