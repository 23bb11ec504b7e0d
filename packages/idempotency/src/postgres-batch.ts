import type { PoolClient } from 'pg';
import { IdempotencyConfigError } from './errors';
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
  sql: { insert: string; claim: string; unclaim: string };
  failed(what: string, cause: unknown): Error;
  /** Checks the transaction is still the store's and healthy, then COMMITs; `subject` names whose handler is at fault. */
  commit(client: PoolClient, subject: string): Promise<void>;
  aborted(subject: string): Error;
  ended(subject: string): Error;
  rollback(client: PoolClient): Promise<Error | undefined>;
  /** 'I' idle, 'T' in a transaction, 'E' aborted; undefined where pg is too old to say. */
  status(client: PoolClient): string | null | undefined;
}

const SAVEPOINT = 'evkit_event';

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
    await client.query('BEGIN');
    // Rows held by a concurrent transaction make this wait until it ends, as runOnce's INSERT does.
    if (ids.length > 0) for (const row of (await client.query<{ event_id: string }>(parts.sql.claim, [consumerGroup, ids])).rows) claimed.add(row.event_id);
  } catch (error) {
    checkedOut.release(checkedOut.lost() ?? (await parts.rollback(client)));
    throw parts.failed(`claim ${ids.length} events of consumer group ${JSON.stringify(consumerGroup)}`, error);
  }
  const known = new Set(ids); // ids the claim answered for: not claimed means processed before
  const done = new Set<string>(); // work succeeded in this transaction
  let savepointOpen = false;
  let broken: Error | undefined;
  let committed = false;
  let tail: Promise<unknown> = Promise.resolve();
  const group = JSON.stringify(consumerGroup);

  /** One call at a time, each after the previous settled: one connection runs one statement at once. */
  const serially = <T>(call: () => Promise<T>): Promise<T> => {
    const result = tail.then(call);
    tail = result.catch(() => undefined);
    return result;
  };

  const takeSavepoint = (): Promise<Error | undefined> => {
    const statement = savepointOpen ? `RELEASE SAVEPOINT ${SAVEPOINT}; SAVEPOINT ${SAVEPOINT}` : `SAVEPOINT ${SAVEPOINT}`;
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

  const run = async <T>(eventId: string, work: (transaction: PoolClient) => Promise<T>): Promise<RunOnceResult<T>> => {
    const subject = `event ${JSON.stringify(eventId)} of consumer group ${group}`;
    let savepoint: Promise<Error | undefined> | undefined;
    const transaction = new Proxy(client, {
      get(target, property) {
        savepoint ??= takeSavepoint();
        return Reflect.get(target, property, target) as unknown;
      },
    });
    let result: T;
    try {
      result = await work(transaction);
    } catch (error) {
      if (savepoint) await undo(savepoint, eventId, subject);
      throw error;
    }
    if (savepoint) {
      const savepointError = await savepoint;
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
    if (broken) throw broken;
  };

  return {
    async runOnce(eventGroup, eventId, work) {
      assertKey(eventGroup, eventId);
      assertWork(work);
      if (eventGroup !== consumerGroup) {
        throw new IdempotencyConfigError(`this batch is consumer group ${group}'s, not ${JSON.stringify(eventGroup)}'s`);
      }
      return serially(async () => {
        usable();
        if (done.has(eventId) || (known.has(eventId) && !claimed.has(eventId))) return { duplicate: true };
        if (!claimed.has(eventId)) {
          // Not in the claim (the caller did not foresee it): claim it on its own.
          let inserted: number | null;
          try {
            inserted = (await client.query(parts.sql.insert, [consumerGroup, eventId])).rowCount;
          } catch (error) {
            throw (broken = parts.failed(`record event ${JSON.stringify(eventId)} of consumer group ${group}`, error));
          }
          known.add(eventId);
          if (inserted === 0) return { duplicate: true };
          claimed.add(eventId);
        }
        return run(eventId, work);
      });
    },
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
          discard ??= await parts.rollback(client);
          throw error;
        } finally {
          checkedOut.release(discard);
        }
      });
    },
  };
}
