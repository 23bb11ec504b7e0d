import { logLevel } from 'kafkajs';
import { Pool, type PoolClient } from 'pg';
import { createAvroCodec } from '@evkit/codec';
import { createConsumer } from '@evkit/consumer';
import { createPostgresIdempotencyStore } from '@evkit/idempotency';
import { createOutboxWriter, migrateOutbox } from '@evkit/outbox';
import { createTopic, endpoints, ORDER_PLACED, orderPlacedSchema, readRecords, runId, stack, startOutboxConnector, waitFor, type OutboxConnector } from './support';

// The Connect worker dies with kill -9 while events are being written and relayed. Delivery is
// at least once (Connect resumes from its last flushed offset): nothing may be lost, and the
// duplicates are absorbed by the consumer's processed-events table.
const run = runId();
const table = `evkit_it_outbox_${run}`;
const effects = `evkit_it_effects_${run}`;
const topic = `evkit.it.outbox.crash.${run}`;
const pool = new Pool({ connectionString: endpoints.postgresUrl, max: 10 });
const codec = createAvroCodec({ registry: { url: endpoints.registryUrl } });
const writer = createOutboxWriter({ codec, source: '/it-orders', table });
const store = createPostgresIdempotencyStore({ pool, table: `evkit_it_pe_${run}` });
let connector: OutboxConnector;

beforeAll(async () => {
  await migrateOutbox(pool, { table });
  await pool.query(`CREATE TABLE ${effects} (event_id text PRIMARY KEY, order_id text NOT NULL, seq int NOT NULL)`);
  await store.ensure();
  await createTopic(topic);
  connector = await startOutboxConnector(pool, run, table);
}, 120_000);

afterAll(async () => {
  // Whatever happened, the worker is left running for the next test file.
  await stack.up();
  await connector?.remove();
  await pool.query(`DROP TABLE IF EXISTS ${table}, ${effects}, ${store.table}`);
  await pool.end();
}, 180_000);

async function placeOrder(orderId: string, seq: number): Promise<string> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { event } = await writer.write(client, {
      aggregateType: topic,
      aggregateId: orderId,
      event: { type: ORDER_PLACED, data: { orderId, seq } },
      schema: orderPlacedSchema,
    });
    await client.query('COMMIT');
    return event.id;
  } finally {
    client.release();
  }
}

describe('outbox relayed by Debezium through a Connect crash', () => {
  it('loses nothing when the worker is killed with kill -9 mid-stream and restarted', async () => {
    let duplicates = 0;
    const consumer = createConsumer({
      groupId: `evkit-it-crash-${run}`,
      topics: [topic],
      codec,
      idempotency: store,
      fromBeginning: true,
      kafka: { brokers: endpoints.kafkaBrokers, logLevel: logLevel.NOTHING },
    }).on<{ orderId: string; seq: number }, PoolClient>(
      ORDER_PLACED,
      async (event, context) => {
        // The side effect commits with the processed-event row: once per event id.
        const { rowCount } = await context.transaction!.query(
          `INSERT INTO ${effects} (event_id, order_id, seq) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
          [event.id, event.data.orderId, event.data.seq],
        );
        if (rowCount === 0) duplicates += 1;
      },
      { readerSchema: orderPlacedSchema },
    );
    await consumer.start();
    try {
      const ids: string[] = [];
      // Written one after another in the background, before, during and after the crash.
      const writing = (async () => {
        while (ids.length < 400) ids.push(await placeOrder(`o-${ids.length % 10}`, ids.length));
      })();
      await waitFor('a third written', async () => ids.length >= 130);
      const pid = stack.pidOf('connect');
      expect(pid).toBeDefined();
      process.kill(pid!, 'SIGKILL');
      await waitFor('more written while the worker is down (the slot keeps them)', async () => ids.length >= 260);
      await stack.up();
      await writing;

      const handled = async () => (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${effects}`)).rows[0]!.n;
      await waitFor('every event handled', async () => (await handled()) >= ids.length, 120_000);
      const { rows } = await pool.query<{ event_id: string }>(`SELECT event_id FROM ${effects}`);
      expect(new Set(rows.map((r) => r.event_id))).toEqual(new Set(ids));
      // The dedupe absorbed what Connect sent twice: no side effect ran twice.
      expect(duplicates).toBe(0);
      // On the topic: every event at least once, duplicates allowed.
      const records = await readRecords(topic, ids.length, { settleMs: 1000 });
      expect(new Set(records.map((r) => r.headers.ce_id!.toString()))).toEqual(new Set(ids));
      process.stdout.write(`  [crash] ${ids.length} events, ${records.length - ids.length} duplicate record(s) on the topic\n`);
    } finally {
      await consumer.stop();
    }
  }, 170_000);
});
