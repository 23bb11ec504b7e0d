import type { ClientBase } from 'pg';
import { SagaAlreadyExistsError, SagaConcurrentUpdateError, sagaDatabaseError } from './errors';
import { FINISHED, type HistoryEntry, type SagaState, type SagaStatus } from './machine';
import type { Queryable, SagaTables } from './tables';

// The SQL of saga state, each statement on the client of the caller's transaction. Row locks
// are always taken in one order, the saga row first and its timer after, so a reply and the
// timeout poller never deadlock: whoever locks the saga row decides, the other waits and then
// finds the version moved on.

export interface SagaRow<D> {
  id: string;
  name: string;
  version: number;
  state: SagaState<D>;
}

interface RawRow {
  id: string;
  name: string;
  status: SagaStatus;
  step: number;
  attempt: number;
  awaiting: string[];
  data: unknown;
  version: number;
}

async function run<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw sagaDatabaseError(what, error);
  }
}

export async function insertSaga<D>(tx: ClientBase, t: SagaTables, id: string, name: string, state: SagaState<D>, stepName: string): Promise<number> {
  const result = await run(`insert saga ${id}`, () =>
    tx.query(
      `INSERT INTO ${t.sagas} (id, name, status, step, attempt, awaiting, data, step_name, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1) ON CONFLICT (id) DO NOTHING`,
      [id, name, state.status, state.step, state.attempt, state.awaiting, JSON.stringify(state.data), stepName],
    ),
  );
  if (result.rowCount !== 1) throw new SagaAlreadyExistsError(`saga ${id} exists already; a saga id names one saga`);
  return 1;
}

/** The saga row, locked until the transaction ends; `skipLocked`: undefined when another transaction holds it. */
export async function lockSaga<D>(tx: ClientBase, t: SagaTables, id: string, skipLocked = false): Promise<SagaRow<D> | undefined> {
  const { rows } = await run(`lock saga ${id}`, () =>
    tx.query<RawRow>(`SELECT id, name, status, step, attempt, awaiting, data, version FROM ${t.sagas} WHERE id = $1 FOR UPDATE${skipLocked ? ' SKIP LOCKED' : ''}`, [id]),
  );
  const row = rows[0];
  if (row === undefined) return undefined;
  const { status, step, attempt, awaiting, data } = row;
  return { id: row.id, name: row.name, version: row.version, state: { status, step, attempt, awaiting, data: data as D } };
}

/** Writes the next state if the row is still at `version` (optimistic concurrency); returns the new version. */
export async function saveSaga<D>(tx: ClientBase, t: SagaTables, id: string, version: number, state: SagaState<D>, stepName: string): Promise<number> {
  const finished = FINISHED.includes(state.status);
  const result = await run(`update saga ${id}`, () =>
    tx.query(
      `UPDATE ${t.sagas} SET status = $3, step = $4, attempt = $5, awaiting = $6, data = $7, step_name = $9, version = version + 1, updated_at = now(), ` +
        `finished_at = CASE WHEN $8::boolean THEN now() END WHERE id = $1 AND version = $2`,
      [id, version, state.status, state.step, state.attempt, state.awaiting, JSON.stringify(state.data), finished, stepName],
    ),
  );
  if (result.rowCount !== 1) throw new SagaConcurrentUpdateError(`saga ${id} moved on from version ${version} meanwhile; nothing was written`, { retriable: true });
  return version + 1;
}

/** The saga's one timer: replaced by `timer`, or cleared. */
export async function setTimer(tx: ClientBase, t: SagaTables, id: string, version: number, timer: { kind: string; inMs: number } | undefined): Promise<void> {
  await run(`set the timer of saga ${id}`, () =>
    timer === undefined
      ? tx.query(`DELETE FROM ${t.timeouts} WHERE saga_id = $1`, [id])
      : tx.query(
          `INSERT INTO ${t.timeouts} (saga_id, saga_version, kind, due_at) VALUES ($1, $2, $3, now() + $4::double precision * interval '1 millisecond') ` +
            'ON CONFLICT (saga_id) DO UPDATE SET saga_version = EXCLUDED.saga_version, kind = EXCLUDED.kind, due_at = EXCLUDED.due_at',
          [id, version, timer.kind, timer.inMs],
        ),
  );
}

export interface HistoryRow extends HistoryEntry {
  stepName?: string;
  eventId?: string;
  eventType?: string;
}

export async function addHistory(tx: ClientBase, t: SagaTables, id: string, version: number, entries: readonly HistoryRow[]): Promise<void> {
  if (entries.length === 0) return;
  await run(`record the history of saga ${id}`, () =>
    tx.query(
      `INSERT INTO ${t.history} (saga_id, version, kind, step, event_id, event_type, detail) ` +
        'SELECT $1, $2, * FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[])',
      [
        id,
        version,
        entries.map((e) => e.kind),
        entries.map((e) => e.stepName ?? null),
        entries.map((e) => e.eventId ?? null),
        entries.map((e) => e.eventType ?? null),
        entries.map((e) => e.detail ?? null),
      ],
    ),
  );
}

/** Timers due now of sagas named `name`, oldest first; read without locks (firing locks the saga row). */
export async function dueTimers(db: Queryable, t: SagaTables, name: string, limit: number): Promise<string[]> {
  const { rows } = await run('read due saga timers', () =>
    db.query<{ saga_id: string }>(
      `SELECT tm.saga_id FROM ${t.timeouts} tm JOIN ${t.sagas} s ON s.id = tm.saga_id WHERE s.name = $1 AND tm.due_at <= now() ORDER BY tm.due_at LIMIT $2`,
      [name, limit],
    ),
  );
  return rows.map((r) => r.saga_id);
}

/** The saga's timer if it is due; call with the saga row locked. */
export async function dueTimerOf(tx: ClientBase, t: SagaTables, id: string): Promise<{ version: number; kind: 'timeout' | 'resend' } | undefined> {
  const { rows } = await run(`read the timer of saga ${id}`, () =>
    tx.query<{ saga_version: number; kind: 'timeout' | 'resend' }>(`SELECT saga_version, kind FROM ${t.timeouts} WHERE saga_id = $1 AND due_at <= now()`, [id]),
  );
  const row = rows[0];
  return row === undefined ? undefined : { version: row.saga_version, kind: row.kind };
}
