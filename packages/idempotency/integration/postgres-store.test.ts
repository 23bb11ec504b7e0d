import { randomUUID } from 'node:crypto';
import * as net from 'node:net';
import { Pool, type PoolClient } from 'pg';
import {
  createPostgresIdempotencyStore,
  IdempotencyStoreError,
  IdempotencyTransactionAbortedError,
  IdempotencyTransactionEndedError,
} from '@evkit/idempotency';
import { createLocalStack } from '@evkit/stack';
import { describeStoreContract, gate, rejectionOf, returns, sleep } from '../src/store-contract.test-support';

const { endpoints } = createLocalStack();
const prefix = `evkit_pe_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
const table = prefix;
const orders = `${prefix}_orders`;
const createdTables = [table, orders];

// Enough connections for 20 concurrent runOnce calls, each on its own client; idle clients are
// kept so that counting them shows a discarded one.
const pool = new Pool({ connectionString: endpoints.postgresUrl, max: 30, idleTimeoutMillis: 0 });
// Another session, to look at the data from outside the store's transactions.
const observer = new Pool({ connectionString: endpoints.postgresUrl, max: 2 });

beforeAll(() => observer.query(`CREATE TABLE ${orders} (id text PRIMARY KEY)`));
afterAll(async () => {
  for (const name of createdTables) await observer.query(`DROP TABLE IF EXISTS ${name}`);
  await Promise.all([pool.end(), observer.end()]);
});

/** Polls pg_stat_activity until a session waits on a lock in an INSERT into `tableName`. */
async function waitForLockWait(tableName: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    const { rows } = await observer.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE $1`,
      [`INSERT INTO "${tableName}"%`],
    );
    if (rows[0]!.n > 0) return;
    await sleep(20);
  }
  throw new Error(`no INSERT into ${tableName} started waiting on a lock within 5 s`);
}

describeStoreContract('PostgreSQL store', {
  create: () => createPostgresIdempotencyStore({ pool, table }),
  waitUntilBlocked: () => waitForLockWait(table),
});

describe('PostgreSQL store on the real server', () => {
  const store = createPostgresIdempotencyStore({ pool, table });
  afterAll(() => store.close());
  const group = () => `group-${randomUUID()}`;

  /** What another session sees: the processed row and the business row. */
  async function visible(consumerGroup: string, eventId: string, orderId: string) {
    const processed = await observer.query(`SELECT 1 FROM ${table} WHERE consumer_group = $1 AND event_id = $2`, [consumerGroup, eventId]);
    const order = await observer.query(`SELECT 1 FROM ${orders} WHERE id = $1`, [orderId]);
    return { processed: processed.rowCount, order: order.rowCount };
  }
  const insertOrder = (client: PoolClient, orderId: string) => client.query(`INSERT INTO ${orders} (id) VALUES ($1)`, [orderId]);

  it("commits the handler's own insert and the processed row together, and runs no duplicate", async () => {
    const g = group();
    const orderId = randomUUID();
    let seenDuringWork: unknown;
    const outcome = await store.runOnce(g, 'e-1', async (client) => {
      await insertOrder(client, orderId);
      seenDuringWork = await visible(g, 'e-1', orderId);
      return 'placed';
    });
    expect(outcome).toEqual({ duplicate: false, result: 'placed' });
    // One transaction: invisible to others until the store's COMMIT, then both at once.
    expect(seenDuringWork).toEqual({ processed: 0, order: 0 });
    expect(await visible(g, 'e-1', orderId)).toEqual({ processed: 1, order: 1 });

    // The redelivery would fail on the order's primary key if its work ran.
    const again = jest.fn((client: PoolClient) => insertOrder(client, orderId));
    await expect(store.runOnce(g, 'e-1', again)).resolves.toEqual({ duplicate: true });
    expect(again).not.toHaveBeenCalled();
  });

  it('leaves neither row when the handler throws, and runs the redelivery', async () => {
    const g = group();
    const orderId = randomUUID();
    const failure = new Error('payment service said no');
    await expect(
      store.runOnce(g, 'e-1', async (client) => {
        await insertOrder(client, orderId);
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(await visible(g, 'e-1', orderId)).toEqual({ processed: 0, order: 0 });

    await expect(store.runOnce(g, 'e-1', (client) => insertOrder(client, orderId).then(() => 'retried'))).resolves.toEqual({
      duplicate: false,
      result: 'retried',
    });
    expect(await visible(g, 'e-1', orderId)).toEqual({ processed: 1, order: 1 });
  });

  it("rethrows the handler's SQL error itself, not wrapped", async () => {
    const g = group();
    const orderId = randomUUID();
    await observer.query(`INSERT INTO ${orders} (id) VALUES ($1)`, [orderId]);
    const error = await rejectionOf(store.runOnce(g, 'e-1', (client) => insertOrder(client, orderId)));
    expect(error).not.toBeInstanceOf(IdempotencyStoreError);
    expect(error).toMatchObject({ code: '23505', table: orders });
    expect((await visible(g, 'e-1', orderId)).processed).toBe(0);
  });

  /** A handler that inserts an order, then does `then` on its client: how runOnce fails, and what others see. */
  async function misbehave(then: (client: PoolClient) => Promise<unknown>) {
    const g = group();
    const orderId = randomUUID();
    const error = await rejectionOf(
      store.runOnce(g, 'e-1', async (client) => {
        await insertOrder(client, orderId);
        await then(client);
      }),
    );
    return { error, seen: await visible(g, 'e-1', orderId) };
  }

  it('commits nothing when the handler swallowed a failed statement', async () => {
    const { error, seen } = await misbehave((client) => client.query('SELECT 1 / 0').catch(() => undefined));
    expect(error).toBeInstanceOf(IdempotencyTransactionAbortedError);
    expect(seen).toEqual({ processed: 0, order: 0 });
  });

  it('fails loudly when the handler commits the transaction itself', async () => {
    const { error, seen } = await misbehave((client) => client.query('COMMIT'));
    expect(error).toBeInstanceOf(IdempotencyTransactionEndedError);
    // The handler's COMMIT took the row with it; the store can only report, not undo.
    expect(seen).toEqual({ processed: 1, order: 1 });
  });

  it('survives the connection being killed during the handler: the error surfaces, the client is discarded', async () => {
    const g = group();
    const orderId = randomUUID();
    const started = gate();
    const killed = gate();
    let pid = 0;
    const outcome = rejectionOf(
      store.runOnce(g, 'e-1', async (client) => {
        pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
        await insertOrder(client, orderId);
        started.open();
        await killed.promise;
        await client.query('SELECT 1');
      }),
    );
    await started.promise;
    const idleBefore = pool.idleCount;
    // What idle_in_transaction_session_timeout or an operator does; pg then emits 'error' on the client.
    await observer.query('SELECT pg_terminate_backend($1)', [pid]);
    await sleep(200);
    killed.open();
    const error = await outcome;
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(IdempotencyStoreError);
    expect(pool.idleCount).toBe(idleBefore); // not handed back to the pool
    expect(await visible(g, 'e-1', orderId)).toEqual({ processed: 0, order: 0 });
    await expect(store.runOnce(g, 'e-1', (client) => insertOrder(client, orderId))).resolves.toMatchObject({ duplicate: false });
  });

  it('rolls back an abandoned attempt at once: its row locks go, its late write cannot commit, the retry runs', async () => {
    const consumerGroup = group();
    const eventId = randomUUID();
    const orderId = randomUUID();
    const abandon = new AbortController();
    let lateWrite: Promise<unknown> | undefined;
    const hung = gate();
    const first = store.runOnce(
      consumerGroup,
      eventId,
      async (client) => {
        await client.query(`INSERT INTO ${orders} (id) VALUES ($1)`, [`${orderId}-early`]);
        await hung.promise; // hung on an external call
        lateWrite = client.query(`INSERT INTO ${orders} (id) VALUES ($1)`, [orderId]);
        await lateWrite;
      },
      { signal: abandon.signal },
    );
    await sleep(100);
    const reason = new Error('timed out');
    abandon.abort(reason);
    await expect(first).rejects.toBe(reason);
    // The retry does not wait for the hung attempt: its claim on the event id is gone.
    const retry = await store.runOnce(consumerGroup, eventId, async (client) => {
      await client.query(`INSERT INTO ${orders} (id) VALUES ($1)`, [`${orderId}-retry`]);
    });
    expect(retry.duplicate).toBe(false);
    hung.open(); // the hung handler wakes up and writes late
    await sleep(50);
    await expect(lateWrite).rejects.toThrow();
    expect(await visible(consumerGroup, eventId, orderId)).toEqual({ processed: 1, order: 0 });
    const early = await observer.query(`SELECT 1 FROM ${orders} WHERE id = $1`, [`${orderId}-early`]);
    expect(early.rowCount).toBe(0);
  });

  it('deletes only old rows, in chunks of deleteBatchSize', async () => {
    const retentionTable = `${prefix}_ret`;
    createdTables.push(retentionTable);
    const own = new Pool({ connectionString: endpoints.postgresUrl, max: 2 });
    const chunked = createPostgresIdempotencyStore({ pool: own, table: retentionTable, deleteBatchSize: 3 });
    try {
      const g = group();
      const ids = Array.from({ length: 10 }, (_, i) => `e-${i}`);
      for (const id of ids) await chunked.runOnce(g, id, returns(undefined));
      const [old, recent] = [ids.slice(0, 7), ids.slice(7)];
      await observer.query(`UPDATE ${retentionTable} SET processed_at = now() - interval '2 days' WHERE event_id = ANY($1)`, [old]);

      const query = jest.spyOn(own, 'query');
      await expect(chunked.deleteOlderThan(24 * 60 * 60 * 1000)).resolves.toBe(7);
      const deletes = query.mock.calls.filter(([sql]) => String(sql).startsWith('DELETE'));
      expect(deletes).toHaveLength(3); // 3 + 3 + 1
      query.mockRestore();

      const left = await observer.query<{ event_id: string }>(`SELECT event_id FROM ${retentionTable} ORDER BY event_id`);
      expect(left.rows.map((row) => row.event_id)).toEqual(recent);
      await expect(chunked.deleteOlderThan(24 * 60 * 60 * 1000)).resolves.toBe(0);
      await expect(chunked.runOnce(g, recent[0]!, returns(undefined))).resolves.toEqual({ duplicate: true });
      await expect(chunked.runOnce(g, old[0]!, returns(undefined))).resolves.toEqual({ duplicate: false, result: undefined });
    } finally {
      await chunked.close();
      await own.end();
    }
  });

  it('creates the table from 5 stores starting at once, schema-qualified', async () => {
    const name = `${prefix}_new`;
    createdTables.push(`public.${name}`);
    const stores = Array.from({ length: 5 }, () =>
      createPostgresIdempotencyStore({ connectionString: endpoints.postgresUrl, table: `public.${name}`, maxConnections: 1 }),
    );
    try {
      const outcomes = await Promise.allSettled(stores.map((s) => s.ensure()));
      expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
      const { rows } = await observer.query('SELECT to_regclass($1) IS NOT NULL AS t, to_regclass($2) IS NOT NULL AS i', [
        `public.${name}`,
        `public.${name}_processed_at_idx`,
      ]);
      expect(rows[0]).toEqual({ t: true, i: true });
      await expect(stores[0]!.runOnce('g', 'e', returns('works'))).resolves.toEqual({ duplicate: false, result: 'works' });
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('with createTable: false, does not create the table and reports its absence', async () => {
    const name = `${prefix}_absent`;
    const noDdl = createPostgresIdempotencyStore({ pool, table: name, createTable: false });
    await expect(noDdl.ensure()).resolves.toBeUndefined();
    const error = await rejectionOf(noDdl.runOnce('g', 'e', returns(undefined)));
    expect(error).toBeInstanceOf(IdempotencyStoreError);
    expect(error.message).toMatch(/does not exist/);
    expect((await observer.query('SELECT to_regclass($1) AS t', [name])).rows[0]).toEqual({ t: null });
    await noDdl.close();
  });

  it('gives a retriable IdempotencyStoreError without the password when PostgreSQL is unreachable', async () => {
    const port = await freePort();
    const url = new URL(endpoints.postgresUrl);
    url.port = String(port);
    url.password = 'n0t-in-messages';
    const unreachable = createPostgresIdempotencyStore({ connectionString: url.toString(), table });
    const work = jest.fn(returns(undefined));
    try {
      for (const call of [() => unreachable.runOnce('g', 'e', work), () => unreachable.deleteOlderThan(1), () => unreachable.ensure()]) {
        const error = await rejectionOf(call());
        expect(error).toBeInstanceOf(IdempotencyStoreError);
        expect(error).toMatchObject({ code: 'EVKIT_IDEMPOTENCY_STORE_FAILED', retriable: true });
        expect(error.message).toContain(`:${port}`);
        expect(error.message).toMatch(/ECONNREFUSED/);
        expect(`${error.message} ${JSON.stringify(error)} ${String(error.cause)}`).not.toContain('n0t-in-messages');
      }
      expect(work).not.toHaveBeenCalled();
    } finally {
      await unreachable.close();
    }
  });
});

/** A port nothing listens on: bound by the OS, then released. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
