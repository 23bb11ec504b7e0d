import type { RunOnceOptions } from './abandon';

/**
 * Remembers which events a consumer group has processed, so that a redelivered event (Kafka
 * delivers at least once) does not reach a handler's side effects twice.
 *
 * `TTransaction` is what the handler receives to do its own work in the same transaction as the
 * processed-event row: a `pg` client for PostgreSQL, `undefined` in memory. Either the handler's
 * work and the row commit together, or neither does: a failed handler leaves no row, so the
 * redelivery runs it again. Effects outside that transaction (HTTP calls, messages, files) are
 * not covered: they can happen once per attempt, so make them idempotent themselves.
 */
export interface IdempotencyStore<TTransaction = unknown> {
  /**
   * Runs `work` unless `eventId` was already processed by `consumerGroup`. Concurrent calls for
   * one event (a zombie consumer and its successor) run `work` at most once: the second waits
   * for the first to commit or roll back, then reports a duplicate or runs.
   *
   * An error thrown by `work` is rethrown unchanged after the rollback; failures of the store
   * itself are typed `EvkitError`s (see docs/error-codes.md). When `options.signal` aborts, the
   * call rejects with its reason and the transaction is rolled back, whether or not `work` ever
   * settles: a hung handler holds no connection, no row lock and no key, and cannot commit late.
   */
  runOnce<T>(consumerGroup: string, eventId: string, work: (transaction: TTransaction) => Promise<T>, options?: RunOnceOptions): Promise<RunOnceResult<T>>;
  /** Deletes rows older than `maxAgeMs`; returns how many. Redeliveries older than that are no longer caught. */
  deleteOlderThan(maxAgeMs: number): Promise<number>;
  /** Takes no new calls, waits for those in flight, then releases what the store owns. */
  close(): Promise<void>;
}

export type RunOnceResult<T> = { duplicate: false; result: T } | { duplicate: true };

/**
 * A store that can also dedupe a run of events in one transaction (the PostgreSQL store): one
 * statement claims the events' rows, each handler runs inside that transaction, one COMMIT ends
 * it. `IdempotencyStore.runOnce` is unchanged next to it.
 */
export interface BatchingIdempotencyStore<TTransaction = unknown> extends IdempotencyStore<TTransaction> {
  /**
   * Begins a transaction for `consumerGroup` and claims, in one statement, the rows of
   * `eventIds` (the events about to be handled, in order) that no one processed yet. Ids that are
   * empty or contain NUL are left out here and refused by the batch's runOnce.
   */
  beginBatch(consumerGroup: string, eventIds: readonly string[]): Promise<IdempotencyBatch<TTransaction>>;
}

/**
 * One open transaction of a BatchingIdempotencyStore. Its `runOnce` keeps the store's contract
 * (work runs at most once per event; a failed work leaves no row and none of its changes) but
 * nothing is durable before `commit`. Calls run one after another: one connection, one statement
 * at a time; a call waits for the previous one to settle or be abandoned.
 */
export interface IdempotencyBatch<TTransaction = unknown> {
  /**
   * As `IdempotencyStore.runOnce`, for the batch's consumer group only. When `options.signal`
   * aborts, the work is abandoned: its changes are rolled back (to its savepoint), it can no
   * longer use the transaction, and the call rejects with the signal's reason; the batch goes on.
   * Should its statements not end in time, the batch is broken instead (see `failure`).
   */
  runOnce<T>(consumerGroup: string, eventId: string, work: (transaction: TTransaction) => Promise<T>, options?: RunOnceOptions): Promise<RunOnceResult<T>>;
  /**
   * Why the batch can take no more work, if it cannot: its commit will fail with this error and
   * nothing of it commits. The caller stops handing it events (they are not at fault).
   */
  failure?(): Error | undefined;
  /**
   * Waits for the call in flight, drops the claims of events whose work did not succeed, and
   * commits the rest. The connection goes back to the pool whatever happens; when this rejects,
   * none of the batch is known to be committed (a redelivery finds out).
   */
  commit(): Promise<void>;
}
