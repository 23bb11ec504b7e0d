import type { PoolClient } from 'pg';
import { markBatchFailure } from '@evkit/errors';
import { untilAborted, type RunOnceOptions } from './abandon';
import { IdempotencyAttemptAbandonedError, IdempotencyConfigError } from './errors';
import type { IdempotencyBatch, RunOnceResult } from './store';
import { assertKey, assertWork } from './validation';

/** A pooled client checked out for the batch's lifetime. */
export interface CheckedOutClient {
  readonly client: PoolClient;
  /** The error of a connection that dropped while checked out, if any. */
  lost(): Error | undefined;
  /** Back to the pool; destroyed instead when given an error. */
  release(discard: Error | undefined): void;
}

/** What a batch borrows from its store: SQL, error making, transaction checks. */
export interface BatchStoreParts {
  /**
   * `begin` opens the transaction (with the claim's lock_timeout set LOCAL when there is one);
   * `unbound` puts lock_timeout back to the server's setting before the first handler statement.
   */
  sql: { insert: string; claim: string; unclaim: string; begin: string; unbound: string | undefined };
  /** Retriable as `isRetriablePostgresError(cause)` unless `retriable` says otherwise. */
  failed(what: string, cause: unknown, retriable?: boolean): Error;
  /** The claim's lock wait ran out (SQLSTATE 55P03): a typed, retriable error. */
  claimTimedOut(what: string, cause: unknown): Error;
  /** Checks the transaction is still the store's and healthy, then COMMITs; `subject` names whose handler is at fault. */
  commit(client: PoolClient, subject: string): Promise<void>;
  aborted(subject: string): Error;
  ended(subject: string): Error;
  rollback(client: PoolClient): Promise<Error | undefined>;
  /** 'I' idle, 'T' in a transaction, 'E' aborted; undefined where pg is too old to say. */
  status(client: PoolClient): string | null | undefined;
}

const SAVEPOINT = 'evkit_event';
// SQLSTATE lock_not_available: lock_timeout ran out (or NOWAIT).
const LOCK_NOT_AVAILABLE = '55P03';

/**
 * How long the statements an abandoned work had already sent may take before its rollback gives
 * up and destroys the batch's connection: the next event waits that long at most.
 */
export const ABANDONED_WORK_BOUND_MS = 2000;

/**
 * Resolves once the client has read the server's ReadyForQuery for what it sent. pg settles a
 * failed query at its ErrorResponse, before the ReadyForQuery that carries the transaction
 * status; under load the two arrive in different reads, and a status read in between is the one
 * from before the failure (a swallowed error then passed for success). Reads pg's own fields.
 */
export function settled(client: PoolClient): Promise<void> {
  const internals = client as unknown as { readyForQuery?: boolean; connection?: { once(event: 'readyForQuery', listener: () => void): unknown } };
  if (internals.readyForQuery !== false || !internals.connection) return Promise.resolve();
  return new Promise((resolve) => internals.connection!.once('readyForQuery', () => resolve()));
}

const storable = (eventId: string) => eventId.length > 0 && !eventId.includes('\u0000');
const asError = (error: unknown) => (error instanceof Error ? error : new Error(String(error)));

/**
 * BEGIN and one INSERT claiming the rows of `eventIds`; then each runOnce runs its work in that
 * transaction. A work gets a SAVEPOINT when it first touches the client (a work that never uses it
 * costs no round trip), so its failure undoes its changes only. Claims of events whose work did
 * not succeed are deleted before COMMIT: a failed event leaves no row.
 */
export async function beginPostgresBatch(
  parts: BatchStoreParts,
  checkedOut: CheckedOutClient,
  consumerGroup: string,
  eventIds: readonly string[],
): Promise<IdempotencyBatch<PoolClient>> {
  const { client } = checkedOut;
  const ids = [...new Set(eventIds.filter(storable))];
  const claimed = new Set<string>(); // rows this transaction inserted whose work has not succeeded
  try {
    await client.query(parts.sql.begin);
    // Rows held by a concurrent transaction (a zombie's open batch) make this wait until it ends,
    // or until the claim's lock_timeout: the whole partition waits on it, so the wait is bounded.
    if (ids.length > 0) for (const row of (await client.query<{ event_id: string }>(parts.sql.claim, [consumerGroup, ids])).rows) claimed.add(row.event_id);
  } catch (error) {
    checkedOut.release(checkedOut.lost() ?? (await parts.rollback(client)));
    const what = `claim ${ids.length} events of consumer group ${JSON.stringify(consumerGroup)}`;
    throw (error as { code?: unknown } | null)?.code === LOCK_NOT_AVAILABLE ? parts.claimTimedOut(what, error) : parts.failed(what, error);
  }
  const known = new Set(ids); // ids the claim answered for: not claimed means processed before
  const done = new Set<string>(); // work succeeded in this transaction
  let savepointOpen = false;
  let broken: Error | undefined;
  let committed = false;
  let released = false;
  let tail: Promise<unknown> = Promise.resolve();
  const group = JSON.stringify(consumerGroup);

  /** Back to the pool, or destroyed given an error; once (an abandoned work may destroy it before commit). */
  const release = (discard: Error | undefined) => {
    if (released) return;
    released = true;
    checkedOut.release(discard);
  };

  /** One call at a time, each after the previous settled: one connection runs one statement at once. */
  const serially = <T>(call: () => Promise<T>): Promise<T> => {
    const result = tail.then(call);
    tail = result.catch(() => undefined);
    return result;
  };

  const takeSavepoint = (): Promise<Error | undefined> => {
    // The first handler statement runs with the server's lock_timeout, not the claim's: set back
    // before the savepoint, so a rollback to it does not undo that.
    const statement = savepointOpen
      ? `RELEASE SAVEPOINT ${SAVEPOINT}; SAVEPOINT ${SAVEPOINT}`
      : `${parts.sql.unbound === undefined ? '' : `${parts.sql.unbound}; `}SAVEPOINT ${SAVEPOINT}`;
    savepointOpen = true;
    // Queued before any statement of the work: pg runs a client's queries in the order given.
    return client.query(statement).then(() => undefined, asError);
  };

  /** The work committed or rolled back the transaction itself: claims of other events may have been committed. */
  const endedBy = async (eventId: string, subject: string): Promise<Error> => {
    broken = parts.ended(subject);
    const others = [...claimed].filter((id) => id !== eventId);
    // Outside a transaction now: each statement commits on its own. Best effort; the batch is over.
    if (others.length > 0) await client.query(parts.sql.unclaim, [consumerGroup, others]).catch(() => undefined);
    return broken;
  };

  /** After a failed work: its changes go, the batch carries on (or is marked broken when it cannot). */
  const undo = async (savepoint: Promise<Error | undefined>, eventId: string, subject: string): Promise<void> => {
    const savepointError = await savepoint;
    await settled(client);
    if (parts.status(client) === 'I') {
      await endedBy(eventId, subject);
      return;
    }
    try {
      if (savepointError) throw savepointError;
      await client.query(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}`);
    } catch (error) {
      broken ??= parts.failed(`roll back the work of ${subject}`, error);
    }
  };

  /**
   * The caller gave up on a work that may still run: the statements it already sent run first
   * (pg queues them), then its savepoint is rolled back, so none of its changes stay and the batch
   * goes on. A statement stuck longer than the bound (a lock wait, a long query) breaks the batch
   * instead: its connection is destroyed, the server rolls the whole batch back.
   */
  const abandon = async (savepoint: Promise<Error | undefined> | undefined, eventId: string, subject: string): Promise<void> => {
    if (!savepoint) return; // it never touched the client: nothing to undo; its claim is dropped at commit
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), ABANDONED_WORK_BOUND_MS);
    });
    try {
      if ((await Promise.race([undo(savepoint, eventId, subject).then(() => 'undone' as const), late])) === 'undone') return;
    } finally {
      clearTimeout(timer);
    }
    const stuck = new Error(`its statements did not end within ${ABANDONED_WORK_BOUND_MS} ms; the connection was destroyed and nothing of the batch commits`);
    // Retriable: the destroyed connection takes the whole batch with it, none of its events is at fault.
    broken ??= parts.failed(`roll back the abandoned work of ${subject}`, stuck, true);
    release(broken);
  };

  const run = async <T>(eventId: string, work: (transaction: PoolClient) => Promise<T>, signal: AbortSignal | undefined): Promise<RunOnceResult<T>> => {
    const subject = `event ${JSON.stringify(eventId)} of consumer group ${group}`;
    let savepoint: Promise<Error | undefined> | undefined;
    let abandoned: Error | undefined;
    const transaction = new Proxy(client, {
      get(target, property) {
        // Abandoned, the client belongs to the next event's work: a late statement of this one
        // would land in it, or outside any transaction after the commit.
        if (abandoned) throw abandoned;
        savepoint ??= takeSavepoint();
        const value = Reflect.get(target, property, target) as unknown;
        // Bound to the client itself, so pg's own later uses of `this` never meet the refusal.
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    let result: T;
    try {
      result = await untilAborted(work(transaction), signal, () => {
        abandoned = new IdempotencyAttemptAbandonedError(`the attempt of the handler of ${subject} was abandoned (timed out or stopped): it can no longer use the batch's transaction`);
      });
    } catch (error) {
      if (abandoned) await abandon(savepoint, eventId, subject);
      else if (savepoint) await undo(savepoint, eventId, subject);
      throw error;
    }
    if (savepoint) {
      const savepointError = await savepoint;
      await settled(client);
      const status = parts.status(client);
      if (status === 'I') throw await endedBy(eventId, `the handler of ${subject}`);
      if (savepointError) throw (broken = parts.failed(`set a savepoint for ${subject}`, savepointError));
      if (status === 'E') {
        await undo(savepoint, eventId, subject);
        throw parts.aborted(`the handler of ${subject}`);
      }
    }
    claimed.delete(eventId);
    done.add(eventId);
    return { duplicate: false, result };
  };

  const usable = () => {
    if (committed) throw new IdempotencyConfigError(`this batch of consumer group ${group} is committed; begin another`);
    // A later event of a broken batch fails for the batch's sake, not its own: not an attempt of it.
    if (broken) throw markBatchFailure(broken);
  };

  return {
    async runOnce(eventGroup, eventId, work, options?: RunOnceOptions) {
      assertKey(eventGroup, eventId);
      assertWork(work);
      if (eventGroup !== consumerGroup) {
        throw new IdempotencyConfigError(`this batch is consumer group ${group}'s, not ${JSON.stringify(eventGroup)}'s`);
      }
      const signal = options?.signal;
      return serially(async () => {
        usable();
        // Given up on while it waited for the events before it: never started.
        if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason));
        if (done.has(eventId) || (known.has(eventId) && !claimed.has(eventId))) return { duplicate: true };
        if (!claimed.has(eventId)) {
          // Not in the claim (the caller did not foresee it): claim it on its own.
          let inserted: number | null;
          try {
            inserted = (await client.query(parts.sql.insert, [consumerGroup, eventId])).rowCount;
          } catch (error) {
            throw markBatchFailure((broken = parts.failed(`record event ${JSON.stringify(eventId)} of consumer group ${group}`, error)));
          }
          known.add(eventId);
          if (inserted === 0) return { duplicate: true };
          claimed.add(eventId);
        }
        return run(eventId, work, signal);
      });
    },
    failure: () => broken,
    commit() {
      return serially(async () => {
        if (committed) usable();
        committed = true;
        let discard = checkedOut.lost();
        try {
          if (broken) throw broken;
          if (claimed.size > 0) {
            try {
              await client.query(parts.sql.unclaim, [consumerGroup, [...claimed]]);
            } catch (error) {
              throw parts.failed(`drop the claims of ${claimed.size} events not processed`, error);
            }
          }
          await parts.commit(client, `a handler of a batch of consumer group ${group}`);
        } catch (error) {
          if (!released) discard ??= await parts.rollback(client);
          throw error;
        } finally {
          release(discard);
        }
      });
    },
  };
}
