import { EventEmitter } from 'node:events';
import type { Pool } from 'pg';
import {
  IdempotencyClaimTimeoutError,
  IdempotencyConfigError,
  IdempotencyStoreError,
  IdempotencyTransactionAbortedError,
  IdempotencyTransactionEndedError,
} from './errors';
import { createPostgresIdempotencyStore, type PostgresIdempotencyStoreOptions, type PostgresIdempotencyStorePoolOptions } from './postgres-store';
import { rejectionOf, returns } from './store-contract.test-support';

type Status = 'I' | 'T' | 'E';
type Answer = { rowCount?: number; command?: string; rows?: unknown[] };

/**
 * A pg client that answers each statement as `answer` says and tracks the transaction status the
 * way the server reports it in ReadyForQuery.
 */
class FakeClient extends EventEmitter {
  readonly statements: string[] = [];
  readonly release = jest.fn();
  status: Status = 'I';
  constructor(private readonly answer: (sql: string) => Answer | Error) {
    super();
  }
  getTransactionStatus(): Status {
    return this.status;
  }
  query(sql: string): Promise<{ rowCount: number; command: string; rows: unknown[] }> {
    // A multi-statement (simple protocol) query: each statement's first word.
    for (const statement of sql.split('; ')) this.statements.push(statement.split(' ')[0]!);
    const answer = this.answer(sql);
    if (answer instanceof Error) return Promise.reject(answer);
    if (sql.startsWith('BEGIN')) this.status = 'T';
    if (sql === 'COMMIT' || sql === 'ROLLBACK') this.status = 'I';
    return Promise.resolve({ rowCount: answer.rowCount ?? 1, command: answer.command ?? sql.split(' ')[0]!, rows: answer.rows ?? [] });
  }
}

function fakeStore(answer: (sql: string) => Answer | Error = () => ({}), options: Partial<PostgresIdempotencyStorePoolOptions> = {}) {
  const client = new FakeClient(answer);
  const pool = {
    options: { connectionString: 'postgres://app:hunter2@db.internal:5432/orders' },
    connect: jest.fn(() => Promise.resolve(client)),
  };
  const store = createPostgresIdempotencyStore({ pool: pool as unknown as Pool, createTable: false, ...options });
  return { store, client, pool };
}

describe('createPostgresIdempotencyStore options', () => {
  const pool = { connect: () => Promise.reject(new Error('unused')), options: {} } as unknown as Pool;

  it('accepts plain, schema-qualified and reserved-word table names', () => {
    for (const table of ['evkit_processed_events', 'app.processed_events', 'order', '_x1']) {
      expect(createPostgresIdempotencyStore({ pool, table }).table).toBe(table);
    }
    expect(createPostgresIdempotencyStore({ pool }).table).toBe('evkit_processed_events');
  });

  it('refuses table names that are not plain lowercase identifiers, or too long for the index name', () => {
    const bad = ['', 'Events', 'events;drop table x', 'a.b.c', '.events', 'events.', 'ev"ents', '1events', 'évents', 'a'.repeat(47)];
    for (const table of bad) {
      expect(() => createPostgresIdempotencyStore({ pool, table })).toThrow(IdempotencyConfigError);
    }
    expect(createPostgresIdempotencyStore({ pool, table: 'a'.repeat(46) }).table).toHaveLength(46);
  });

  it('wants exactly one of pool and connectionString, and sane numbers', () => {
    const invalid: unknown[] = [
      {},
      { pool, connectionString: 'postgres://x@h/db' },
      { connectionString: '' },
      { pool: {} },
      { pool, deleteBatchSize: 0 },
      { pool, deleteBatchSize: 1.5 },
      { pool, createTable: 'yes' },
      { connectionString: 'postgres://x@h/db', maxConnections: 0 },
      { connectionString: 'postgres://x@h/db', connectTimeoutMs: -1 },
      undefined,
    ];
    for (const options of invalid) {
      expect(() => createPostgresIdempotencyStore(options as PostgresIdempotencyStoreOptions)).toThrow(IdempotencyConfigError);
    }
  });
});

describe('PostgreSQL store transaction handling', () => {
  it('commits: BEGIN, INSERT, the work, COMMIT, and pools the client again', async () => {
    const { store, client } = fakeStore();
    await expect(store.runOnce('g', 'e', (tx) => Promise.resolve(tx === (client as unknown) ? 'same client' : 'other'))).resolves.toEqual({
      duplicate: false,
      result: 'same client',
    });
    expect(client.statements).toEqual(['BEGIN', 'INSERT', 'COMMIT']);
    expect(client.release).toHaveBeenCalledWith(undefined);
  });

  it('rolls back a duplicate without running the work', async () => {
    const { store, client } = fakeStore((sql) => (sql.startsWith('INSERT') ? { rowCount: 0 } : {}));
    const work = jest.fn(returns(undefined));
    await expect(store.runOnce('g', 'e', work)).resolves.toEqual({ duplicate: true });
    expect(work).not.toHaveBeenCalled();
    expect(client.statements).toEqual(['BEGIN', 'INSERT', 'ROLLBACK']);
  });

  it("rethrows the handler's error as is after ROLLBACK", async () => {
    const { store, client } = fakeStore();
    const failure = new Error('handler failed');
    await expect(store.runOnce('g', 'e', () => Promise.reject(failure))).rejects.toBe(failure);
    expect(client.statements).toEqual(['BEGIN', 'INSERT', 'ROLLBACK']);
    expect(client.release).toHaveBeenCalledWith(undefined);
  });

  it('destroys the client (release with the error) when ROLLBACK fails, still rethrowing the handler error', async () => {
    const rollbackFailure = new Error('Connection terminated unexpectedly');
    const { store, client } = fakeStore((sql) => (sql === 'ROLLBACK' ? rollbackFailure : {}));
    const failure = new Error('handler failed');
    await expect(store.runOnce('g', 'e', () => Promise.reject(failure))).rejects.toBe(failure);
    expect(client.release).toHaveBeenCalledWith(rollbackFailure);
  });

  it('wraps a failed BEGIN or INSERT as a retriable IdempotencyStoreError with the cause', async () => {
    for (const failing of ['BEGIN', 'INSERT']) {
      const cause = Object.assign(new Error(`${failing} refused`), { code: 'ECONNRESET' });
      const { store, client } = fakeStore((sql) => (sql.startsWith(failing) ? cause : {}));
      const work = jest.fn(returns(undefined));
      const error = await rejectionOf(store.runOnce('g', 'e', work));
      expect(error).toBeInstanceOf(IdempotencyStoreError);
      expect(error).toMatchObject({ retriable: true, cause, code: 'EVKIT_IDEMPOTENCY_STORE_FAILED' });
      expect(work).not.toHaveBeenCalled();
      expect(client.statements).toContain('ROLLBACK');
    }
  });

  it('wraps an error that will recur (a missing table) as not retriable', async () => {
    const cause = Object.assign(new Error('relation "evkit_processed_events" does not exist'), { severity: 'ERROR', code: '42P01' });
    const { store } = fakeStore((sql) => (sql.startsWith('INSERT') ? cause : {}));
    const error = await rejectionOf(store.runOnce('g', 'e', returns(undefined)));
    expect(error).toBeInstanceOf(IdempotencyStoreError);
    expect(error).toMatchObject({ retriable: false, cause, code: 'EVKIT_IDEMPOTENCY_STORE_FAILED' });
  });

  it('wraps a failed COMMIT as retriable and says the outcome is unknown', async () => {
    const cause = new Error('Connection terminated');
    const { store } = fakeStore((sql) => (sql === 'COMMIT' ? cause : {}));
    const error = await rejectionOf(store.runOnce('g', 'e', returns(undefined)));
    expect(error).toBeInstanceOf(IdempotencyStoreError);
    expect(error).toMatchObject({ retriable: true, cause });
    expect(error.message).toMatch(/outcome is unknown/);
  });

  it.each([
    ['swallowed a failed statement (aborted transaction)', 'E', IdempotencyTransactionAbortedError, true],
    ['ended the transaction itself', 'I', IdempotencyTransactionEndedError, false],
  ] as const)('does not commit after a handler that %s', async (_, status, errorClass, retriable) => {
    const { store, client } = fakeStore();
    const error = await rejectionOf(
      store.runOnce('g', 'e', () => {
        client.status = status;
        return Promise.resolve();
      }),
    );
    expect(error).toBeInstanceOf(errorClass);
    expect(error).toMatchObject({ retriable });
    expect(client.statements).toEqual(['BEGIN', 'INSERT', 'ROLLBACK']);
  });

  it('reports an aborted transaction also when only the COMMIT answer reveals it (ROLLBACK tag)', async () => {
    const { store } = fakeStore((sql) => (sql === 'COMMIT' ? { command: 'ROLLBACK' } : {}));
    await expect(store.runOnce('g', 'e', returns(undefined))).rejects.toBeInstanceOf(IdempotencyTransactionAbortedError);
  });

  it('destroys a client whose connection dropped during the work, instead of pooling it', async () => {
    const { store, client } = fakeStore();
    const dropped = new Error('terminating connection due to idle-in-transaction timeout');
    const failure = new Error('handler saw the connection go');
    await expect(
      store.runOnce('g', 'e', () => {
        client.emit('error', dropped);
        return Promise.reject(failure);
      }),
    ).rejects.toBe(failure);
    expect(client.release).toHaveBeenCalledWith(dropped);
    expect(client.listenerCount('error')).toBe(0);
  });

  it('never puts the password of a connection string into its messages', async () => {
    const { store, pool } = fakeStore();
    const refused = [new Error('connect ECONNREFUSED ::1:5432'), new Error('connect ECONNREFUSED 127.0.0.1:5432')];
    pool.connect.mockRejectedValueOnce(new AggregateError(refused, ''));
    const error = await rejectionOf(store.runOnce('g', 'e', returns(undefined)));
    expect(error).toBeInstanceOf(IdempotencyStoreError);
    expect(error.message).toContain('db.internal:5432/orders');
    expect(error.message).toContain('ECONNREFUSED 127.0.0.1:5432');
    expect(JSON.stringify(error)).not.toContain('hunter2');
    expect(error.message).not.toContain('hunter2');
  });
});

describe('PostgreSQL store ensure', () => {
  it('runs no DDL when the table and its index exist: CREATE INDEX would queue behind any open writer', async () => {
    const sent: string[] = [];
    const { store, client } = fakeStore((sql) => (sent.push(sql), sql.includes('to_regclass') ? { rows: [{ ready: true }] } : {}), { createTable: true });
    await store.ensure();
    expect(sent).toEqual([`SELECT to_regclass('"evkit_processed_events"') IS NOT NULL AND to_regclass('"evkit_processed_events_processed_at_idx"') IS NOT NULL AS ready`]);
    expect(client.release).toHaveBeenCalledWith(undefined);
  });

  it('creates them under the advisory lock when missing', async () => {
    const { store, client } = fakeStore((sql) => (sql.includes('to_regclass') ? { rows: [{ ready: false }] } : {}), { createTable: true, table: 'app.events' });
    await store.ensure();
    expect(client.statements).toEqual(['SELECT', 'BEGIN', 'SELECT', 'CREATE', 'CREATE', 'COMMIT']);
  });
});

describe('PostgreSQL store batches (beginBatch)', () => {
  /** Claims return the ids listed in `fresh`. */
  const claiming = (fresh: string[], other: (sql: string) => Answer | Error = () => ({})) => (sql: string) =>
    sql.includes('unnest') ? { rows: fresh.map((event_id) => ({ event_id })) } : other(sql);

  it('runs BEGIN, one claim, no SAVEPOINT for work that never touches the client, drops unused claims, COMMIT', async () => {
    const { store, client, pool } = fakeStore(claiming(['e-1', 'e-2', 'e-3']));
    const batch = await store.beginBatch('g', ['e-1', 'e-0', 'e-2', 'e-3', 'e-1', '', 'bad\u0000id']);
    await expect(batch.runOnce('g', 'e-0', returns('x'))).resolves.toEqual({ duplicate: true }); // processed before
    await expect(batch.runOnce('g', 'e-1', returns('one'))).resolves.toEqual({ duplicate: false, result: 'one' });
    await expect(batch.runOnce('g', 'e-1', returns('again'))).resolves.toEqual({ duplicate: true });
    await expect(batch.runOnce('g', 'e-2', () => Promise.reject(new Error('failed')))).rejects.toThrow('failed');
    await expect(batch.runOnce('g', 'bad\u0000id', returns(undefined))).rejects.toBeInstanceOf(IdempotencyConfigError);
    await expect(batch.runOnce('other', 'e-1', returns(undefined))).rejects.toBeInstanceOf(IdempotencyConfigError);
    await batch.commit();
    // e-2 failed and e-3 never ran: their claims go before COMMIT.
    expect(client.statements).toEqual(['BEGIN', 'SET', 'INSERT', 'DELETE', 'COMMIT']);
    expect(pool.connect).toHaveBeenCalledTimes(1);
    expect(client.release).toHaveBeenCalledWith(undefined);
    expect(client.listenerCount('error')).toBe(0);
    await expect(batch.runOnce('g', 'e-3', returns(undefined))).rejects.toBeInstanceOf(IdempotencyConfigError); // committed
  });

  it('takes a SAVEPOINT when work first touches the client and rolls back to it when the work fails', async () => {
    const { store, client } = fakeStore(claiming(['e-1', 'e-2', 'e-3']));
    const batch = await store.beginBatch('g', ['e-1', 'e-2', 'e-3']);
    const useClient = (tx: unknown) => (tx as FakeClient).query('UPDATE orders');
    await batch.runOnce('g', 'e-1', useClient);
    await expect(batch.runOnce('g', 'e-2', async (tx) => {
      await useClient(tx);
      throw new Error('failed after its update');
    })).rejects.toThrow('failed after its update');
    await batch.runOnce('g', 'e-3', useClient);
    await batch.commit();
    // The claim's lock_timeout is set back (SET LOCAL ... TO DEFAULT) before the first handler statement.
    expect(client.statements).toEqual(
      ['BEGIN', 'SET', 'INSERT', 'SET', 'SAVEPOINT', 'UPDATE', 'RELEASE', 'SAVEPOINT', 'UPDATE', 'ROLLBACK', 'RELEASE', 'SAVEPOINT', 'UPDATE', 'DELETE', 'COMMIT'],
    );
  });

  it('fails a work that swallowed a SQL error alone: aborted, rolled back to its savepoint', async () => {
    const { store, client } = fakeStore(claiming(['e-1', 'e-2']));
    const batch = await store.beginBatch('g', ['e-1', 'e-2']);
    const error = await rejectionOf(
      batch.runOnce('g', 'e-1', async (tx) => {
        await (tx as unknown as FakeClient).query('UPDATE orders');
        client.status = 'E';
      }),
    );
    expect(error).toBeInstanceOf(IdempotencyTransactionAbortedError);
    client.status = 'T'; // what ROLLBACK TO SAVEPOINT does on the server
    await expect(batch.runOnce('g', 'e-2', returns('ok'))).resolves.toEqual({ duplicate: false, result: 'ok' });
    await batch.commit();
    expect(client.statements.slice(-3)).toEqual(['ROLLBACK', 'DELETE', 'COMMIT']);
  });

  it('lets commit wait for a work whose caller gave up on it (a timeout) before ending the transaction', async () => {
    const { store, client } = fakeStore(claiming(['e-1']));
    const batch = await store.beginBatch('g', ['e-1']);
    let finish!: () => void;
    const slow = batch.runOnce('g', 'e-1', (tx) => new Promise<void>((resolve) => (finish = resolve)).then(() => (tx as unknown as FakeClient).query('UPDATE late')).then(() => undefined));
    const committing = batch.commit();
    await new Promise((r) => setTimeout(r, 20));
    expect(client.statements).not.toContain('COMMIT');
    finish();
    await slow;
    await committing;
    expect(client.statements.slice(-3)).toEqual(['SAVEPOINT', 'UPDATE', 'COMMIT']);
  });

  it('bounds the claim\'s lock wait: lock_timeout set LOCAL with BEGIN, and its expiry typed as a retriable IdempotencyClaimTimeoutError', async () => {
    const cause = Object.assign(new Error('canceling statement due to lock timeout'), { severity: 'ERROR', code: '55P03' });
    const sent: string[] = [];
    const { store, client } = fakeStore((sql) => (sent.push(sql), sql.includes('unnest') ? cause : {}), { claimLockTimeoutMs: 1500 });
    const error = await rejectionOf(store.beginBatch('g', ['e-1']));
    expect(error).toBeInstanceOf(IdempotencyClaimTimeoutError);
    expect(error).toMatchObject({ code: 'EVKIT_IDEMPOTENCY_CLAIM_TIMEOUT', retriable: true, cause });
    expect((error as Error).message).toMatch(/held some of their rows for more than 1500 ms/);
    expect(sent[0]).toBe('BEGIN; SET LOCAL lock_timeout = 1500');
    expect(client.statements).toEqual(['BEGIN', 'SET', 'INSERT', 'ROLLBACK']);
    expect(client.release).toHaveBeenCalledWith(undefined);
  });

  it('wraps any other failed claim as an IdempotencyStoreError, retriable as the cause is', async () => {
    const cause = Object.assign(new Error('terminating connection due to administrator command'), { severity: 'FATAL', code: '57P01' });
    const { store } = fakeStore((sql) => (sql.includes('unnest') ? cause : {}));
    const error = await rejectionOf(store.beginBatch('g', ['e-1']));
    expect(error).toBeInstanceOf(IdempotencyStoreError);
    expect(error).toMatchObject({ retriable: true, cause });
  });

  it('sets no lock_timeout with claimLockTimeoutMs 0', async () => {
    const sent: string[] = [];
    const { store } = fakeStore((sql) => (sent.push(sql), sql.includes('unnest') ? { rows: [{ event_id: 'e-1' }] } : {}), { claimLockTimeoutMs: 0 });
    const batch = await store.beginBatch('g', ['e-1']);
    await batch.runOnce('g', 'e-1', (tx) => (tx as unknown as FakeClient).query('UPDATE orders'));
    await batch.commit();
    expect(sent[0]).toBe('BEGIN');
    expect(sent.some((sql) => sql.includes('lock_timeout'))).toBe(false);
    expect(() => fakeStore(undefined, { claimLockTimeoutMs: -1 })).toThrow(/claimLockTimeoutMs must be an integer from 0/);
    expect(() => fakeStore(undefined, { claimLockTimeoutMs: 1.5 })).toThrow(IdempotencyConfigError);
  });

  it('fails the batch when a work ended the transaction itself; commit rejects and still releases the client', async () => {
    const { store, client } = fakeStore(claiming(['e-1', 'e-2']));
    const batch = await store.beginBatch('g', ['e-1', 'e-2']);
    const error = await rejectionOf(batch.runOnce('g', 'e-1', (tx) => (tx as unknown as FakeClient).query('COMMIT').then(() => undefined)));
    expect(error).toBeInstanceOf(IdempotencyTransactionEndedError);
    await expect(batch.runOnce('g', 'e-2', returns(undefined))).rejects.toBe(error);
    await expect(batch.commit()).rejects.toBe(error);
    // e-2's claim, committed by the handler's COMMIT, is deleted again.
    expect(client.statements).toEqual(['BEGIN', 'SET', 'INSERT', 'SET', 'SAVEPOINT', 'COMMIT', 'DELETE', 'ROLLBACK']);
    expect(client.release).toHaveBeenCalledTimes(1);
  });
});
