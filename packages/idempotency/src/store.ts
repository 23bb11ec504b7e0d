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
   * itself are typed `EvkitError`s (see docs/error-codes.md).
   */
  runOnce<T>(consumerGroup: string, eventId: string, work: (transaction: TTransaction) => Promise<T>): Promise<RunOnceResult<T>>;
  /** Deletes rows older than `maxAgeMs`; returns how many. Redeliveries older than that are no longer caught. */
  deleteOlderThan(maxAgeMs: number): Promise<number>;
  /** Takes no new calls, waits for those in flight, then releases what the store owns. */
  close(): Promise<void>;
}

export type RunOnceResult<T> = { duplicate: false; result: T } | { duplicate: true };
