import type { Pool, PoolClient } from 'pg';
import { OutboxDatabaseError } from './errors';
import { inTransaction } from './transaction';

/** A pool of one client that records its statements and fails the ones named in `failing`. */
function fakePool(failing: Record<string, Error> = {}) {
  const statements: string[] = [];
  const released: (Error | undefined)[] = [];
  const client = {
    query: async (text: string) => {
      statements.push(text);
      if (failing[text]) throw failing[text];
      return { rows: [] };
    },
    release: (destroy?: Error) => released.push(destroy),
  };
  const pool = { connect: async () => client } as unknown as Pool;
  return { pool, statements, released };
}

describe('inTransaction', () => {
  it('commits what the work did and resolves with its result', async () => {
    const { pool, statements, released } = fakePool();
    expect(await inTransaction(pool, async (tx: PoolClient) => (await tx.query('INSERT 1'), 'done'))).toBe('done');
    expect(statements).toEqual(['BEGIN', 'INSERT 1', 'COMMIT']);
    expect(released).toEqual([undefined]);
  });

  it("rolls back when the work throws, and rethrows the work's own error", async () => {
    const { pool, statements, released } = fakePool();
    const mine = new Error('out of stock');
    await expect(inTransaction(pool, () => Promise.reject(mine))).rejects.toBe(mine);
    expect(statements).toEqual(['BEGIN', 'ROLLBACK']);
    expect(released).toEqual([undefined]);
  });

  it('types a failed COMMIT (nothing committed), retriable when PostgreSQL says so', async () => {
    const serialization = Object.assign(new Error('could not serialize access'), { code: '40001' });
    const { pool } = fakePool({ COMMIT: serialization });
    const failure = await inTransaction(pool, async () => 1).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OutboxDatabaseError);
    expect(failure).toMatchObject({ code: 'EVKIT_OUTBOX_DATABASE_FAILED', retriable: true, cause: serialization });
    expect((failure as Error).message).toMatch(/COMMIT the transaction \(nothing was committed\)/);
  });

  it('destroys a client whose ROLLBACK failed instead of returning it to the pool', async () => {
    const broken = new Error('connection terminated');
    const { pool, released } = fakePool({ ROLLBACK: broken });
    await expect(inTransaction(pool, () => Promise.reject(new Error('work failed')))).rejects.toThrow('work failed');
    expect(released).toEqual([broken]);
  });
});
