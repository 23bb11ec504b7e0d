import type { ClientBase, Pool } from 'pg';
import { advisoryXactLockSql, parsePostgresTableName } from '@evkit/idempotency';
import { SagaConfigError, sagaDatabaseError } from './errors';

export const DEFAULT_SAGA_TABLE = 'evkit_saga';

/** Something that runs SQL: a pg Pool, Client or PoolClient. */
export type Queryable = Pool | ClientBase;

export interface SagaTables {
  /** As configured. */
  readonly name: string;
  readonly sagas: string;
  readonly timeouts: string;
  readonly history: string;
}

const LONGEST_SUFFIX = '_timeouts_due_idx';

/** The three tables of a saga store, named after `table` (the rule every evkit table name follows). */
export function sagaTables(table: unknown = DEFAULT_SAGA_TABLE): SagaTables {
  const t = parsePostgresTableName(table, LONGEST_SUFFIX, (message) => new SagaConfigError(message));
  return { name: t.name, sagas: t.qualified, timeouts: t.derived('_timeouts'), history: t.derived('_history') };
}

/**
 * The DDL (idempotent), as a migration tool takes it. One row per saga (its state, versioned),
 * its pending timer (at most one, stamped with the version it was set at) and its history.
 */
export function sagaMigrationSql(options: { table?: string } = {}): string {
  const t = parsePostgresTableName(options.table ?? DEFAULT_SAGA_TABLE, LONGEST_SUFFIX, (message) => new SagaConfigError(message));
  const { sagas, timeouts, history } = sagaTables(options.table);
  return `-- Orchestrated sagas (@evkit/saga).
CREATE TABLE IF NOT EXISTS ${sagas} (
  id          text PRIMARY KEY CHECK (id <> ''),  -- the saga id, also every command's correlation id
  name        text NOT NULL,                      -- the saga type (its definition's name)
  status      text NOT NULL CHECK (status IN ('running', 'compensating', 'completed', 'compensated', 'stuck')),
  step        integer NOT NULL,                   -- the step awaited or being compensated (index)
  step_name   text NOT NULL,                      -- its name, for people
  attempt     integer NOT NULL,
  awaiting    text[] NOT NULL DEFAULT '{}',       -- ids of the commands whose reply is awaited
  data        jsonb NOT NULL,
  version     integer NOT NULL,                   -- optimistic concurrency: every transition bumps it
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
CREATE INDEX IF NOT EXISTS ${t.local('_status_idx')} ON ${sagas} (name, status);
CREATE INDEX IF NOT EXISTS ${t.local('_finished_idx')} ON ${sagas} (finished_at) WHERE finished_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS ${timeouts} (
  saga_id      text PRIMARY KEY REFERENCES ${sagas} (id) ON DELETE CASCADE,
  saga_version integer NOT NULL,                  -- fires only if the saga is still at this version
  kind         text NOT NULL CHECK (kind IN ('timeout', 'resend')),
  due_at       timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS ${t.local('_timeouts_due_idx')} ON ${timeouts} (due_at);
CREATE TABLE IF NOT EXISTS ${history} (
  saga_id    text NOT NULL REFERENCES ${sagas} (id) ON DELETE CASCADE,
  seq        bigint GENERATED ALWAYS AS IDENTITY,
  at         timestamptz NOT NULL DEFAULT now(),
  version    integer NOT NULL,                    -- the saga's version after the entry
  kind       text NOT NULL,
  step       text,
  event_id   text,                                -- the reply, or the command sent
  event_type text,
  detail     text,
  PRIMARY KEY (saga_id, seq)
);`;
}

/** The DDL after the advisory lock of these tables: run inside a transaction, concurrent runs are safe. */
export function lockedMigrationSql(options: { table?: string } = {}): string {
  return `${advisoryXactLockSql(`evkit saga table ${sagaTables(options.table).name}`)}; ${sagaMigrationSql(options)}`;
}

/** Creates the tables unless they exist, in one transaction under an advisory lock (concurrent starts are safe). */
export async function migrateSagas(pool: Pool, options: { table?: string } = {}): Promise<void> {
  const sql = lockedMigrationSql(options);
  const client = await pool.connect().catch((error: unknown) => Promise.reject(sagaDatabaseError('connect to migrate the saga tables', error)));
  let broken: Error | undefined;
  try {
    await client.query(`BEGIN; ${sql}; COMMIT`);
  } catch (error) {
    await client.query('ROLLBACK').catch((failure: unknown) => (broken = failure instanceof Error ? failure : new Error(String(failure))));
    throw sagaDatabaseError('create the saga tables', error);
  } finally {
    client.release(broken);
  }
}
