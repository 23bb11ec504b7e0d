// A failure of the batch a record was handled in (its shared transaction broke), not of the record:
// failure routing must not count it as the record's attempt, nor retry or dead-letter the record
// for it; the consumer redelivers the batch instead. A registered symbol, so copies of this package
// agree on it.
const FAILS_BATCH = Symbol.for('evkit.failsBatch');

/** Marks `error` as its batch's failure, not the record's; returns it. */
export function markBatchFailure<E extends Error>(error: E): E {
  if (!isBatchFailure(error)) Object.defineProperty(error, FAILS_BATCH, { value: true, enumerable: false });
  return error;
}

export function isBatchFailure(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[FAILS_BATCH] === true;
}
