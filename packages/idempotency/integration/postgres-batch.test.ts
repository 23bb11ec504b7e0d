import { randomUUID } from 'node:crypto';
import { Pool, type PoolClient } from 'pg';
import {
  createPostgresIdempotencyStore,
  IdempotencyClaimTimeoutError,
  IdempotencyStoreClosedError,
  IdempotencyTransactionAbortedError,
  IdempotencyTransactionEndedError,
} from '@evkit/idempotency';
import { isBatchFailure } from '@evkit/errors';
import { createLocalStack } from '@evkit/stack';
import { rejectionOf, returns, sleep } from '../src/store-contract.test-support';

// beginBatch against the real server: one claim, SAVEPOINTs, one COMMIT.
const { endpoints } = createLocalStack();
const table = `evkit_pb_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
const orders = `${table}_orders`;
const pool = new Pool({ connectionString: endpoints.postgresUrl, max: 10 });
const observer = new Pool({ connectionString: endpoints.postgresUrl, max: 2 });
const store = createPostgresIdempotencyStore({ pool, table });

beforeAll(async () => {
  await observer.query(`CREATE TABLE ${orders} (id text PRIMARY KEY)`);
  await store.ensure();
});
afterAll(async () => {
  await store.close();
  for (const name of [table, orders]) await observer.query(`DROP TABLE IF EXISTS ${name}`);
  await Promise.all([pool.end(), observer.end()]);
});

const group = () => `group-${randomUUID()}`;
const order = (id: string) => (tx: PoolClient) => tx.query(`INSERT INTO ${orders} (id) VALUES ($1)`, [id]).then(() => id);

/** What another session sees: processed event ids of the group, and which of `orderIds` exist. */
async function visible(consumerGroup: string, orderIds: string[]) {
  const processed = await observer.query<{ event_id: string }>(`SELECT event_id FROM ${table} WHERE consumer_group = $1 ORDER BY event_id`, [consumerGroup]);
  const found = await observer.query<{ id: string }>(`SELECT id FROM ${orders} WHERE id = ANY($1) ORDER BY id`, [orderIds]);
  return { processed: processed.rows.map((r) => r.event_id), orders: found.rows.map((r) => r.id) };
}

describe('PostgreSQL store: beginBatch', () => {
  it('claims in one statement, runs each new event once, and commits the work with the rows', async () => {
    const g = group();
    await store.runOnce(g, 'e-0', returns(undefined)); // processed before the batch
    const batch = await store.beginBatch(g, ['e-0', 'e-1', 'e-2', 'e-1']);
    await expect(batch.runOnce(g, 'e-0', order('o-0'))).resolves.toEqual({ duplicate: true });
    await expect(batch.runOnce(g, 'e-1', order(`${g}-1`))).resolves.toEqual({ duplicate: false, result: `${g}-1` });
    await expect(batch.runOnce(g, 'e-1', order(`${g}-1b`))).resolves.toEqual({ duplicate: true }); // twice in one batch
    await expect(batch.runOnce(g, 'e-2', returns('no db work'))).resolves.toEqual({ duplicate: false, result: 'no db work' });
    // Not in the claim: claimed on its own.
    await expect(batch.runOnce(g, 'e-3', order(`${g}-3`))).resolves.toEqual({ duplicate: false, result: `${g}-3` });
    // Nothing is visible before COMMIT.
    await expect(visible(g, [`${g}-1`, `${g}-3`])).resolves.toEqual({ processed: ['e-0'], orders: [] });
    await batch.commit();
    await expect(visible(g, [`${g}-1`, `${g}-1b`, `${g}-3`])).resolves.toEqual({ processed: ['e-0', 'e-1', 'e-2', 'e-3'], orders: [`${g}-1`, `${g}-3`] });
    await expect(store.runOnce(g, 'e-2', returns(undefined))).resolves.toEqual({ duplicate: true });
  });

  it('undoes a failed event only: its work and row go, the events before and after it commit', async () => {
    const g = group();
    const batch = await store.beginBatch(g, ['e-1', 'e-2', 'e-3', 'e-4']);
    await batch.runOnce(g, 'e-1', order(`${g}-1`));
    const failure = new Error('handler failed after its insert');
    const failing = async (tx: PoolClient) => {
      await order(`${g}-2`)(tx);
      throw failure;
    };
    await expect(batch.runOnce(g, 'e-2', failing)).rejects.toBe(failure);
    await batch.runOnce(g, 'e-3', order(`${g}-3`));
    // e-4 was claimed but never run: no row either.
    await batch.commit();
    await expect(visible(g, [`${g}-1`, `${g}-2`, `${g}-3`])).resolves.toEqual({ processed: ['e-1', 'e-3'], orders: [`${g}-1`, `${g}-3`] });
    // The redelivery runs the failed and the unrun events.
    const retry = jest.fn(returns(undefined));
    await expect(store.runOnce(g, 'e-2', retry)).resolves.toEqual({ duplicate: false, result: undefined });
    await expect(store.runOnce(g, 'e-4', retry)).resolves.toEqual({ duplicate: false, result: undefined });
    expect(retry).toHaveBeenCalledTimes(2);
  });

  it('runs a failed event again when it comes again in the same batch', async () => {
    const g = group();
    const batch = await store.beginBatch(g, ['e-1', 'e-1']);
    await expect(batch.runOnce(g, 'e-1', () => Promise.reject(new Error('first time')))).rejects.toThrow('first time');
    await expect(batch.runOnce(g, 'e-1', order(`${g}-1`))).resolves.toEqual({ duplicate: false, result: `${g}-1` });
    await expect(batch.runOnce(g, 'e-1', order(`${g}-1`))).resolves.toEqual({ duplicate: true });
    await batch.commit();
    await expect(visible(g, [`${g}-1`])).resolves.toEqual({ processed: ['e-1'], orders: [`${g}-1`] });
  });

  it('reports a swallowed SQL error as aborted for that event only; the batch goes on', async () => {
    const g = group();
    const batch = await store.beginBatch(g, ['e-1', 'e-2']);
    const swallowing = async (tx: PoolClient) => {
      await order(`${g}-1`)(tx);
      await tx.query('SELECT 1/0').catch(() => undefined);
    };
    await expect(batch.runOnce(g, 'e-1', swallowing)).rejects.toBeInstanceOf(IdempotencyTransactionAbortedError);
    await batch.runOnce(g, 'e-2', order(`${g}-2`));
    await batch.commit();
    await expect(visible(g, [`${g}-1`, `${g}-2`])).resolves.toEqual({ processed: ['e-2'], orders: [`${g}-2`] });
  });

  it('fails the batch when a handler commits it itself, and leaves no claim of an unrun event behind', async () => {
    const g = group();
    const batch = await store.beginBatch(g, ['e-1', 'e-2', 'e-3']);
    await batch.runOnce(g, 'e-1', order(`${g}-1`));
    const committing = async (tx: PoolClient) => {
      await order(`${g}-2`)(tx);
      await tx.query('COMMIT');
    };
    const error = await rejectionOf(batch.runOnce(g, 'e-2', committing));
    expect(error).toBeInstanceOf(IdempotencyTransactionEndedError);
    await expect(batch.runOnce(g, 'e-3', returns(undefined))).rejects.toBe(error);
    // For e-3 it is the batch's failure, not its own: failure routing must not count it as an attempt.
    expect(isBatchFailure(error)).toBe(true);
    await expect(batch.commit()).rejects.toBe(error);
    // What the handler's COMMIT made durable stays (work and rows together); e-3's claim is gone.
    await expect(visible(g, [`${g}-1`, `${g}-2`])).resolves.toEqual({ processed: ['e-1', 'e-2'], orders: [`${g}-1`, `${g}-2`] });
  });

  it('makes a concurrent runOnce of a claimed event wait for the batch: duplicate if it ran, run if it did not', async () => {
    const g = group();
    const batch = await store.beginBatch(g, ['e-1', 'e-2']);
    await batch.runOnce(g, 'e-1', returns(undefined));
    const other = jest.fn(returns('other'));
    const first = store.runOnce(g, 'e-1', other);
    const second = store.runOnce(g, 'e-2', other);
    await sleep(200);
    expect(other).not.toHaveBeenCalled();
    await batch.commit();
    await expect(first).resolves.toEqual({ duplicate: true });
    await expect(second).resolves.toEqual({ duplicate: false, result: 'other' });
  });

  it('bounds the wait on a zombie\'s open batch (F5): the claim fails retriably after claimLockTimeoutMs, and goes through once the zombie committed', async () => {
    const bounded = createPostgresIdempotencyStore({ pool, table, claimLockTimeoutMs: 300 });
    const g = group();
    // The zombie: a batch that claimed e-2 and e-3 and has not committed.
    const zombie = await store.beginBatch(g, ['e-2', 'e-3']);
    await zombie.runOnce(g, 'e-2', order(`${g}-z2`));
    const started = Date.now();
    const error = await rejectionOf(bounded.beginBatch(g, ['e-1', 'e-2', 'e-3', 'e-4']));
    const waited = Date.now() - started;
    expect(error).toBeInstanceOf(IdempotencyClaimTimeoutError);
    expect(error).toMatchObject({ code: 'EVKIT_IDEMPOTENCY_CLAIM_TIMEOUT', retriable: true });
    expect((error as { cause?: { code?: string } }).cause?.code).toBe('55P03');
    expect(waited).toBeGreaterThanOrEqual(250);
    expect(waited).toBeLessThan(3000);
    // Nothing of the successor's claim stayed (e-1 and e-4 were not held by anyone).
    await expect(visible(g, [])).resolves.toEqual({ processed: [], orders: [] });
    await zombie.commit();
    // The redelivery: the zombie's events are duplicates, the rest runs.
    const retry = await bounded.beginBatch(g, ['e-1', 'e-2', 'e-3', 'e-4']);
    // The handlers run with the server's lock_timeout, not the claim's.
    const setting = await retry.runOnce(g, 'e-1', async (tx) => (await tx.query<{ lock_timeout: string }>('SHOW lock_timeout')).rows[0]!.lock_timeout);
    const server = (await observer.query<{ lock_timeout: string }>('SHOW lock_timeout')).rows[0]!.lock_timeout;
    expect(setting).toEqual({ duplicate: false, result: server });
    await expect(retry.runOnce(g, 'e-2', order(`${g}-2`))).resolves.toEqual({ duplicate: true });
    // e-3 the zombie claimed but never ran: its claim went at its commit, so it runs now.
    await expect(retry.runOnce(g, 'e-3', order(`${g}-3`))).resolves.toEqual({ duplicate: false, result: `${g}-3` });
    await expect(retry.runOnce(g, 'e-4', order(`${g}-4`))).resolves.toEqual({ duplicate: false, result: `${g}-4` });
    await retry.commit();
    await expect(visible(g, [`${g}-z2`, `${g}-2`, `${g}-3`, `${g}-4`])).resolves.toEqual({
      processed: ['e-1', 'e-2', 'e-3', 'e-4'],
      orders: [`${g}-3`, `${g}-4`, `${g}-z2`],
    });
    await bounded.close();
  });

  it('keeps close() waiting for an open batch, then refuses new ones', async () => {
    const own = createPostgresIdempotencyStore({ pool, table });
    const g = group();
    const batch = await own.beginBatch(g, ['e-1']);
    let closed = false;
    const closing = own.close().then(() => (closed = true));
    await batch.runOnce(g, 'e-1', returns(undefined));
    await sleep(50);
    expect(closed).toBe(false);
    await batch.commit();
    await closing;
    await expect(own.beginBatch(g, ['e-2'])).rejects.toBeInstanceOf(IdempotencyStoreClosedError);
  });
});
