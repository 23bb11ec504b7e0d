import type { Pool, PoolClient } from 'pg';
import { databaseError } from './database';

/**
 * Runs `work` in a transaction on a client of `pool`: COMMIT when it resolves, ROLLBACK when it
 * throws (its error comes out unchanged). The place for a business change and its outbox write.
 * A failed BEGIN or COMMIT is an OutboxDatabaseError, retriable when PostgreSQL says so (a failed
 * COMMIT means nothing was committed). A client whose ROLLBACK failed is destroyed, not reused.
 */
export async function inTransaction<R>(pool: Pool, work: (tx: PoolClient) => Promise<R>): Promise<R> {
  const client = await pool.connect().catch((error: unknown) => {
    throw databaseError('get a PostgreSQL connection for the transaction', error);
  });
  let broken: Error | undefined;
  try {
    await client.query('BEGIN').catch((error: unknown) => {
      throw databaseError('BEGIN the transaction', error);
    });
    const result = await work(client);
    await client.query('COMMIT').catch((error: unknown) => {
      throw databaseError('COMMIT the transaction (nothing was committed)', error);
    });
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: unknown) => {
      broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    });
    throw error;
  } finally {
    client.release(broken);
  }
}
