// Over 300 lines for a reason: the store's SQL, option checks and transaction handling share one
// closure (pool, table SQL, error making); the batch path is already split out (postgres-batch.ts).
import { Pool, type PoolClient, type PoolConfig } from 'pg';
import { boundedErrorText } from '@evkit/errors';
import { untilAborted } from './abandon';
import {
  IdempotencyClaimTimeoutError,
  IdempotencyConfigError,
  IdempotencyStoreError,
  IdempotencyTransactionAbortedError,
  IdempotencyTransactionEndedError,
} from './errors';
import { beginPostgresBatch, type CheckedOutClient } from './postgres-batch';
import { isRetriablePostgresError } from './postgres-errors';
import { advisoryXactLockSql, parsePostgresTableName } from './postgres-sql';
import type { BatchingIdempotencyStore, RunOnceResult } from './store';
import { assertKey, assertKeyPart, assertMaxAge, assertPositiveInteger, assertWork, createInFlight } from './validation';

interface CommonOptions {
  /** `name` or `schema.name`, lowercase. Default `evkit_processed_events`. */
  table?: string;
  /** Create the table and its index when missing. Default true; turn off where DDL belongs to migrations. */
  createTable?: boolean;
  /** Rows per DELETE statement in deleteOlderThan. Default 10,000. */
  deleteBatchSize?: number;
  /**
   * How long a batch's claim (`beginBatch`) waits for event rows another transaction holds before
   * it fails with the retriable `IdempotencyClaimTimeoutError` (PostgreSQL's `lock_timeout`, set
   * for the claim only; handlers run with the server's). Such a wait is most likely a zombie
   * consumer's open batch, and it holds up the whole partition. 0: wait as long as PostgreSQL
   * does. Default 5000 ms.
   */
  claimLockTimeoutMs?: number;
}

export interface PostgresIdempotencyStorePoolOptions extends CommonOptions {
  /** A pool the caller owns: the store never ends it, and the caller handles its `error` events. */
  pool: Pool;
  connectionString?: never;
}

export interface PostgresIdempotencyStoreConnectionOptions extends CommonOptions {
  /** The store makes, owns and (on close) ends its pool. */
  connectionString: string;
  pool?: never;
  /** Size of the store's pool. Default 10. */
  maxConnections?: number;
  /** How long to wait for a connection before failing. Default 10 s. */
  connectTimeoutMs?: number;
}

export type PostgresIdempotencyStoreOptions = PostgresIdempotencyStorePoolOptions | PostgresIdempotencyStoreConnectionOptions;

/**
 * The handler receives the pooled client inside the store's transaction: its queries commit with
 * the row. `beginBatch` dedupes a run of events in one transaction (one claim, one COMMIT).
 */
export interface PostgresIdempotencyStore extends BatchingIdempotencyStore<PoolClient> {
  /** The table as configured, e.g. `evkit_processed_events` or `app.processed_events`. */
  readonly table: string;
  /**
   * Creates the table and its index unless they exist (when `createTable`), once per store; runOnce
   * and deleteOlderThan call it first. Call it at start-up to fail fast.
   */
  ensure(): Promise<void>;
}

export const DEFAULT_TABLE = 'evkit_processed_events';
const DEFAULT_CLAIM_LOCK_TIMEOUT_MS = 5000;
const INDEX_SUFFIX = '_processed_at_idx';
// Tells the pool to destroy a client rather than pool it; never thrown to anyone.
const ABANDONED = new Error('idempotency attempt abandoned: connection destroyed');

export function createPostgresIdempotencyStore(options: PostgresIdempotencyStoreOptions): PostgresIdempotencyStore {
  const config = validateOptions(options);
  const { table, createTable, deleteBatchSize, claimLockTimeoutMs } = config;
  const sql = tableSql(table, claimLockTimeoutMs);
  const pool = config.ownsPool ? createOwnedPool(config.poolConfig) : config.pool;
  const where = `idempotency store (${describeServer(config.ownsPool ? config.poolConfig : pool.options)}, table ${table})`;
  // Retriable as the cause is: a lost connection or a lock timeout may pass, a missing table will not.
  const failed = (what: string, cause: unknown, retriable = isRetriablePostgresError(cause)) =>
    new IdempotencyStoreError(`${where}: could not ${what}: ${boundedErrorText(cause)}`, { cause, retriable });
  const claimTimedOut = (what: string, cause: unknown) =>
    new IdempotencyClaimTimeoutError(
      `${where}: could not ${what}: another transaction held some of their rows for more than ${claimLockTimeoutMs} ms ` +
        '(most likely a consumer that lost the partition but still runs); the batch is delivered again after the back-off',
      { cause, retriable: true },
    );
  const inFlight = createInFlight(where);

  /** A pooled client, listening for its connection dropping until released. */
  const checkOut = async (): Promise<CheckedOutClient> => {
    let client: PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw failed('connect', error);
    }
    let lost: Error | undefined;
    // pg emits 'error' on a client whose connection drops, even mid-query, and pg-pool listens only
    // while the client is idle: unheard, a server-side kill during a slow handler (e.g.
    // idle_in_transaction_session_timeout) would crash the process.
    const onConnectionError = (error: Error) => {
      lost ??= error;
    };
    client.on('error', onConnectionError);
    return {
      client,
      lost: () => lost,
      release(discard) {
        client.removeListener('error', onConnectionError);
        client.release(discard);
      },
    };
  };

  /**
   * Runs `body` on one pooled client. On any error it rolls back and rethrows the error as is; a
   * client whose ROLLBACK fails, or whose connection dropped, is destroyed rather than pooled.
   */
  const withClient = async <T>(body: (client: PoolClient) => Promise<T>, signal?: AbortSignal): Promise<T> => {
    const checkedOut = await checkOut();
    let discard: Error | undefined;
    try {
      // Abandoned: the connection is destroyed, not rolled back and pooled, since the work may
      // still hold the client. The server rolls the transaction back and frees its row locks;
      // every later query of the work fails on the closed client, so none of it can commit.
      return await untilAborted(body(checkedOut.client), signal, () => (discard = ABANDONED));
    } catch (error) {
      discard ??= checkedOut.lost() ?? (await rollback(checkedOut.client));
      throw error;
    } finally {
      checkedOut.release(discard ?? checkedOut.lost());
    }
  };

  let ready: Promise<void> | undefined;
  const ensure = (): Promise<void> => {
    if (!createTable) return Promise.resolve();
    ready ??= withClient(async (client) => {
      try {
        // Already there (the usual case): no DDL. CREATE INDEX IF NOT EXISTS takes a SHARE lock on
        // the table before it finds the index, so it would wait behind any open transaction that
        // wrote a row (a zombie's batch), and every INSERT after it would queue behind it.
        if ((await client.query<{ ready: boolean }>(sql.exists)).rows[0]?.ready === true) return;
        await client.query('BEGIN');
        // CREATE ... IF NOT EXISTS is not safe against itself; the lock serialises concurrent starts.
        await client.query(sql.lock);
        await client.query(sql.createTable);
        await client.query(sql.createIndex);
        await client.query('COMMIT');
      } catch (error) {
        throw failed('create the table', error);
      }
    }).catch((error: unknown) => {
      ready = undefined; // the next call tries again
      throw error;
    });
    return ready;
  };

  const runOnce = async <T>(
    consumerGroup: string,
    eventId: string,
    work: (client: PoolClient) => Promise<T>,
    signal: AbortSignal | undefined,
  ): Promise<RunOnceResult<T>> => {
    await ensure();
    return withClient(async (client) => {
      let inserted: number | null;
      try {
        await client.query('BEGIN');
        // A concurrent transaction holding the same key makes this wait on the primary key until
        // it ends: committed, no row is inserted here (duplicate); rolled back, this one inserts.
        inserted = (await client.query(sql.insert, [consumerGroup, eventId])).rowCount;
      } catch (error) {
        throw failed(`record event ${JSON.stringify(eventId)} of consumer group ${JSON.stringify(consumerGroup)}`, error);
      }
      if (inserted === 0) {
        try {
          await client.query('ROLLBACK');
        } catch (error) {
          throw failed('end the transaction of a duplicate', error);
        }
        return { duplicate: true };
      }
      const result = await work(client);
      await commit(client, `the handler of event ${JSON.stringify(eventId)} of consumer group ${JSON.stringify(consumerGroup)}`);
      return { duplicate: false, result };
    }, signal);
  };

  /** `subject` names the handler at fault, e.g. `the handler of event "e-1" of consumer group "g"`. */
  const commit = async (client: PoolClient, subject: string): Promise<void> => {
    const status = transactionStatus(client);
    if (status === 'I') throw ended(subject);
    if (status === 'E') throw aborted(subject);
    let answer: { command: string };
    try {
      answer = await client.query('COMMIT');
    } catch (error) {
      throw failed(`commit the work of ${subject} (the outcome is unknown; a redelivery finds out)`, error);
    }
    // PostgreSQL answers COMMIT of an aborted transaction with ROLLBACK, not an error.
    if (answer.command !== 'COMMIT') throw aborted(subject);
  };

  const ended = (subject: string) =>
    new IdempotencyTransactionEndedError(
      `${where}: ${subject} ended the store's transaction (COMMIT or ROLLBACK on the client it was given), ` +
        'so its work and the processed-event row no longer commit together; run all work inside the given transaction',
    );

  const aborted = (subject: string) =>
    new IdempotencyTransactionAbortedError(
      `${where}: ${subject} returned although one of its statements failed, so PostgreSQL had aborted ` +
        'the transaction: nothing was committed. Let SQL errors propagate out of the handler (or use a SAVEPOINT).',
      { retriable: true },
    );

  const beginBatch = async (consumerGroup: string, eventIds: readonly string[]) => {
    await ensure();
    const checkedOut = await checkOut();
    const parts = { sql, failed, claimTimedOut, commit, aborted, ended, rollback, status: transactionStatus };
    return beginPostgresBatch(parts, checkedOut, consumerGroup, eventIds);
  };

  const deleteOlderThan = async (maxAgeMs: number): Promise<number> => {
    await ensure();
    try {
      // The database's clock, as processed_at is its now(); fixed once so the loop has an end.
      const clock = await pool.query<{ cutoff: string }>(`SELECT (now() - make_interval(secs => $1::float8 / 1000))::text AS cutoff`, [maxAgeMs]);
      const cutoff = clock.rows[0]!.cutoff;
      let deleted = 0;
      for (;;) {
        // One short statement per chunk, each its own transaction: no long lock, no huge WAL burst.
        const chunk = (await pool.query(sql.deleteChunk, [cutoff, deleteBatchSize])).rowCount ?? 0;
        deleted += chunk;
        if (chunk < deleteBatchSize) return deleted;
      }
    } catch (error) {
      throw failed(`delete rows older than ${maxAgeMs} ms`, error);
    }
  };

  let closing: Promise<void> | undefined;
  return {
    table,
    ensure: () => inFlight.run(ensure),
    async runOnce(consumerGroup, eventId, work, options) {
      assertKey(consumerGroup, eventId);
      assertWork(work);
      return inFlight.run(() => runOnce(consumerGroup, eventId, work, options?.signal));
    },
    async beginBatch(consumerGroup, eventIds) {
      assertKeyPart('consumerGroup', consumerGroup);
      if (!Array.isArray(eventIds) || eventIds.some((id) => typeof id !== 'string')) {
        throw new IdempotencyConfigError('eventIds must be an array of strings');
      }
      // The batch counts as in flight until it is committed: close() waits for it.
      const end = inFlight.hold();
      try {
        const batch = await beginBatch(consumerGroup, eventIds);
        return {
          runOnce: (group, eventId, work, runOptions) => batch.runOnce(group, eventId, work, runOptions),
          failure: () => batch.failure?.(),
          commit: () => batch.commit().finally(end),
        };
      } catch (error) {
        end();
        throw error;
      }
    },
    async deleteOlderThan(maxAgeMs) {
      assertMaxAge(maxAgeMs);
      return inFlight.run(() => deleteOlderThan(maxAgeMs));
    },
    close() {
      closing ??= inFlight.close().then(() => (config.ownsPool ? pool.end() : undefined));
      return closing;
    },
  };
}

/** Rolls back; returns the error when that fails, so the caller destroys the client instead of pooling it. */
async function rollback(client: PoolClient): Promise<Error | undefined> {
  try {
    // After the handler or the store already ended the transaction this is a no-op (a warning).
    await client.query('ROLLBACK');
    return undefined;
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** 'I' idle (no transaction), 'T' in a transaction, 'E' in an aborted one; undefined where pg is too old to say. */
function transactionStatus(client: PoolClient): string | null | undefined {
  return typeof client.getTransactionStatus === 'function' ? client.getTransactionStatus() : undefined;
}

type ValidatedOptions = {
  table: string;
  createTable: boolean;
  deleteBatchSize: number;
  claimLockTimeoutMs: number;
} & ({ ownsPool: true; poolConfig: PoolConfig } | { ownsPool: false; pool: Pool });

function validateOptions(options: PostgresIdempotencyStoreOptions): ValidatedOptions {
  if (typeof options !== 'object' || options === null) throw new IdempotencyConfigError('options are required');
  const table = options.table ?? DEFAULT_TABLE;
  parsePostgresTableName(table, INDEX_SUFFIX, (message) => new IdempotencyConfigError(message));
  if (options.createTable !== undefined && typeof options.createTable !== 'boolean') {
    throw new IdempotencyConfigError('createTable must be a boolean');
  }
  const deleteBatchSize = options.deleteBatchSize ?? 10_000;
  assertPositiveInteger(deleteBatchSize, 'deleteBatchSize');
  const claimLockTimeoutMs = options.claimLockTimeoutMs ?? DEFAULT_CLAIM_LOCK_TIMEOUT_MS;
  // PostgreSQL's lock_timeout is an int of milliseconds.
  if (typeof claimLockTimeoutMs !== 'number' || !Number.isInteger(claimLockTimeoutMs) || claimLockTimeoutMs < 0 || claimLockTimeoutMs > 2_147_483_647) {
    throw new IdempotencyConfigError(`claimLockTimeoutMs must be an integer from 0 to 2147483647, got ${String(claimLockTimeoutMs)}`);
  }
  const common = { table, createTable: options.createTable ?? true, deleteBatchSize, claimLockTimeoutMs };

  if ((options.pool === undefined) === (options.connectionString === undefined)) {
    throw new IdempotencyConfigError('give exactly one of pool and connectionString');
  }
  if (options.pool !== undefined) {
    // Duck-typed: a Pool from another copy of pg is not an instance of this one's.
    if (typeof (options.pool as { connect?: unknown }).connect !== 'function') {
      throw new IdempotencyConfigError('pool must be a pg Pool');
    }
    return { ...common, ownsPool: false, pool: options.pool };
  }
  const { connectionString, maxConnections = 10, connectTimeoutMs = 10_000 } = options;
  if (typeof connectionString !== 'string' || connectionString.length === 0) {
    throw new IdempotencyConfigError('connectionString must be a non-empty string');
  }
  assertPositiveInteger(maxConnections, 'maxConnections');
  assertPositiveInteger(connectTimeoutMs, 'connectTimeoutMs');
  return { ...common, ownsPool: true, poolConfig: { connectionString, max: maxConnections, connectionTimeoutMillis: connectTimeoutMs } };
}

interface TableSql {
  /** Whether the table and its index exist. */
  exists: string;
  createTable: string;
  createIndex: string;
  insert: string;
  /** Many events at once: returns the ids it inserted (the others were processed before). */
  claim: string;
  /** Deletes claimed rows of events whose work did not succeed, before the batch commits. */
  unclaim: string;
  deleteChunk: string;
  /** Takes the table's advisory lock for the rest of the transaction. */
  lock: string;
  /** A batch's BEGIN, with the claim's lock_timeout (one simple-protocol round trip). */
  begin: string;
  /** Back to the server's lock_timeout for the handlers; undefined when the claim sets none. */
  unbound: string | undefined;
}

/** The table's SQL; identifiers are quoted so that reserved words (`order`, `user`) work as names. */
function tableSql(table: string, claimLockTimeoutMs: number): TableSql {
  const name = parsePostgresTableName(table, INDEX_SUFFIX, (message) => new IdempotencyConfigError(message));
  const { qualified } = name;
  const index = name.local(INDEX_SUFFIX);
  const literal = (identifier: string) => `'${identifier.replace(/'/g, "''")}'`;
  return {
    exists: `SELECT to_regclass(${literal(qualified)}) IS NOT NULL AND to_regclass(${literal(name.derived(INDEX_SUFFIX))}) IS NOT NULL AS ready`,
    createTable:
      `CREATE TABLE IF NOT EXISTS ${qualified} (` +
      'consumer_group text NOT NULL, ' +
      'event_id text NOT NULL, ' +
      'processed_at timestamptz NOT NULL DEFAULT now(), ' +
      'PRIMARY KEY (consumer_group, event_id))',
    createIndex: `CREATE INDEX IF NOT EXISTS ${index} ON ${qualified} (processed_at)`,
    insert: `INSERT INTO ${qualified} (consumer_group, event_id) VALUES ($1, $2) ON CONFLICT (consumer_group, event_id) DO NOTHING`,
    claim:
      `INSERT INTO ${qualified} (consumer_group, event_id) SELECT $1, unnest($2::text[]) ` +
      'ON CONFLICT (consumer_group, event_id) DO NOTHING RETURNING event_id',
    unclaim: `DELETE FROM ${qualified} WHERE consumer_group = $1 AND event_id = ANY($2::text[])`,
    // SKIP LOCKED: two replicas running retention at once split the work instead of queueing.
    deleteChunk:
      `DELETE FROM ${qualified} WHERE (consumer_group, event_id) IN (` +
      `SELECT consumer_group, event_id FROM ${qualified} WHERE processed_at < $1::timestamptz LIMIT $2 FOR UPDATE SKIP LOCKED)`,
    lock: advisoryXactLockSql(`evkit idempotency table ${table}`),
    begin: claimLockTimeoutMs > 0 ? `BEGIN; SET LOCAL lock_timeout = ${claimLockTimeoutMs}` : 'BEGIN',
    unbound: claimLockTimeoutMs > 0 ? 'SET LOCAL lock_timeout TO DEFAULT' : undefined,
  };
}

function createOwnedPool(config: PoolConfig): Pool {
  const pool = new Pool(config);
  // An idle client's connection dropped: pg-pool has already discarded it, and the next operation
  // reports if the server is still unreachable. Without a listener the 'error' event would crash
  // the process.
  pool.on('error', () => {});
  return pool;
}

/** host:port/database without credentials, for messages. */
function describeServer(config: PoolConfig): string {
  if (typeof config.connectionString === 'string') {
    try {
      const url = new URL(config.connectionString);
      return `${url.hostname}${url.port ? `:${url.port}` : ''}${url.pathname}`;
    } catch {
      return 'PostgreSQL'; // a keyword/value string; it may hold a password, so none of it is shown
    }
  }
  return `${config.host ?? process.env.PGHOST ?? 'localhost'}:${config.port ?? process.env.PGPORT ?? 5432}/${config.database ?? process.env.PGDATABASE ?? ''}`;
}
