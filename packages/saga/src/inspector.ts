import { Pool } from 'pg';
import { SagaConfigError, SagaNotFoundError, sagaDatabaseError } from './errors';
import { FINISHED, type SagaStatus } from './machine';
import { validateInspectorOptions } from './options';
import { sagaTables, type Queryable, type SagaTables } from './tables';

// Reading saga state for people and operations (`evkit saga list|show`, retention): plain
// queries, no locks, nothing that needs the saga's definition.

export interface SagaSummary {
  id: string;
  name: string;
  status: SagaStatus;
  /** The step awaited or being compensated; for a finished saga, the last one. */
  step: string;
  attempt: number;
  version: number;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

export interface SagaHistoryEntry {
  seq: number;
  at: Date;
  version: number;
  kind: string;
  step: string | null;
  eventId: string | null;
  eventType: string | null;
  detail: string | null;
}

export interface SagaDetails<D = unknown> extends SagaSummary {
  data: D;
  /** Ids of the commands whose reply the saga waits for. */
  awaiting: string[];
  /** Its pending timer: a reply deadline (`timeout`) or a delayed resend. */
  timer: { kind: 'timeout' | 'resend'; dueAt: Date } | null;
  history: SagaHistoryEntry[];
}

export interface SagaListFilter {
  name?: string;
  status?: SagaStatus;
  /** Default 100, newest first. */
  limit?: number;
}

const STATUSES: readonly SagaStatus[] = ['running', 'compensating', ...FINISHED];
const SUMMARY = 'id, name, status, step_name, attempt, version, created_at, updated_at, finished_at';

interface SummaryRow {
  id: string;
  name: string;
  status: SagaStatus;
  step_name: string;
  attempt: number;
  version: number;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

const summaryOf = (r: SummaryRow): SagaSummary => ({
  id: r.id,
  name: r.name,
  status: r.status,
  step: r.step_name,
  attempt: r.attempt,
  version: r.version,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  finishedAt: r.finished_at,
});

async function run<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw sagaDatabaseError(what, error);
  }
}

export async function listSagas(db: Queryable, t: SagaTables, filter: SagaListFilter = {}): Promise<SagaSummary[]> {
  const { name, status, limit = 100 } = filter;
  if (status !== undefined && !STATUSES.includes(status)) throw new SagaConfigError(`status must be one of ${STATUSES.join(', ')}, got ${JSON.stringify(status)}`);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new SagaConfigError('limit must be a whole number from 1 to 10000');
  const { rows } = await run('list sagas', () =>
    db.query<SummaryRow>(
      `SELECT ${SUMMARY} FROM ${t.sagas} WHERE ($1::text IS NULL OR name = $1) AND ($2::text IS NULL OR status = $2) ORDER BY created_at DESC, id LIMIT $3`,
      [name ?? null, status ?? null, limit],
    ),
  );
  return rows.map(summaryOf);
}

export async function showSaga<D>(db: Queryable, t: SagaTables, id: string): Promise<SagaDetails<D>> {
  const { rows } = await run(`read saga ${id}`, () => db.query<SummaryRow & { data: D; awaiting: string[] }>(`SELECT ${SUMMARY}, data, awaiting FROM ${t.sagas} WHERE id = $1`, [id]));
  const row = rows[0];
  if (row === undefined) throw new SagaNotFoundError(`no saga ${JSON.stringify(id)} in ${t.name} (never begun, or deleted by retention)`);
  const timers = await run(`read the timer of saga ${id}`, () =>
    db.query<{ kind: 'timeout' | 'resend'; due_at: Date }>(`SELECT kind, due_at FROM ${t.timeouts} WHERE saga_id = $1`, [id]),
  );
  const history = await run(`read the history of saga ${id}`, () =>
    db.query<{ seq: string; at: Date; version: number; kind: string; step: string | null; event_id: string | null; event_type: string | null; detail: string | null }>(
      `SELECT seq, at, version, kind, step, event_id, event_type, detail FROM ${t.history} WHERE saga_id = $1 ORDER BY seq`,
      [id],
    ),
  );
  const timer = timers.rows[0];
  return {
    ...summaryOf(row),
    data: row.data,
    awaiting: row.awaiting,
    timer: timer === undefined ? null : { kind: timer.kind, dueAt: timer.due_at },
    history: history.rows.map((h) => ({ seq: Number(h.seq), at: h.at, version: h.version, kind: h.kind, step: h.step, eventId: h.event_id, eventType: h.event_type, detail: h.detail })),
  };
}

/** Completed and compensated sagas finished more than `maxAgeMs` ago, with their history. Stuck sagas wait for a person. */
export async function deleteFinishedOlderThan(db: Queryable, t: SagaTables, maxAgeMs: number): Promise<number> {
  if (!Number.isInteger(maxAgeMs) || maxAgeMs < 0) throw new SagaConfigError('maxAgeMs must be a whole number of milliseconds, 0 or more');
  const result = await run('delete finished sagas', () =>
    db.query(`DELETE FROM ${t.sagas} WHERE status IN ('completed', 'compensated') AND finished_at < now() - $1::double precision * interval '1 millisecond'`, [maxAgeMs]),
  );
  return result.rowCount ?? 0;
}

export interface SagaInspector {
  list(filter?: SagaListFilter): Promise<SagaSummary[]>;
  show(id: string): Promise<SagaDetails>;
  deleteFinishedOlderThan(maxAgeMs: number): Promise<number>;
  /** Ends the pool it made from `connectionString`; a pool you gave stays open. */
  close(): Promise<void>;
}

/** Saga state without the saga's definition: for the CLI, a console, a retention job. */
export function createSagaInspector(options: { pool: Pool; table?: string } | { connectionString: string; table?: string }): SagaInspector {
  validateInspectorOptions(options);
  const tables = sagaTables(options.table);
  const owned = 'connectionString' in options ? new Pool({ connectionString: options.connectionString, max: 2 }) : undefined;
  // An idle client of our own failing (the server restarted) must not crash the process.
  owned?.on('error', () => {});
  const pool = owned ?? (options as { pool: Pool }).pool;
  return {
    list: (filter) => listSagas(pool, tables, filter),
    show: (id) => showSaga(pool, tables, id),
    deleteFinishedOlderThan: (maxAgeMs) => deleteFinishedOlderThan(pool, tables, maxAgeMs),
    close: async () => {
      await owned?.end();
    },
  };
}
