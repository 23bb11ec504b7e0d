import { EvkitError } from '@evkit/errors';

/** An option or argument is unusable (table name, interval, empty event id); the message names it. */
export class IdempotencyConfigError extends EvkitError {
  readonly code = 'EVKIT_IDEMPOTENCY_INVALID_OPTIONS';
}

/**
 * The database failed to connect, begin, record the event or commit. Nothing the store knows of
 * was committed, except after a failed COMMIT, whose outcome is unknown: the redelivery then finds
 * the row (duplicate) or runs the handler again, so retrying is safe either way.
 */
export class IdempotencyStoreError extends EvkitError {
  readonly code = 'EVKIT_IDEMPOTENCY_STORE_FAILED';
}

/**
 * A batch's claim waited longer than `claimLockTimeoutMs` for event rows another transaction
 * holds (PostgreSQL's lock_timeout, SQLSTATE 55P03): most likely a consumer that lost the
 * partition but still runs (a zombie) with those events in its own open batch. Nothing was
 * claimed or run; retriable: the batch is delivered again after the back-off, by when the other
 * transaction has committed (its events are then duplicates) or rolled back.
 */
export class IdempotencyClaimTimeoutError extends EvkitError {
  readonly code = 'EVKIT_IDEMPOTENCY_CLAIM_TIMEOUT';
}

/** The store was closed; it takes no new work. */
export class IdempotencyStoreClosedError extends EvkitError {
  readonly code = 'EVKIT_IDEMPOTENCY_STORE_CLOSED';
}

/**
 * The handler returned normally although one of its statements had failed (it caught the error),
 * so PostgreSQL had aborted the transaction: nothing was committed and the event counts as not
 * processed. Retriable, but a handler that swallows SQL errors will most likely do it again.
 */
export class IdempotencyTransactionAbortedError extends EvkitError {
  readonly code = 'EVKIT_IDEMPOTENCY_TRANSACTION_ABORTED';
}

/**
 * The handler ended the store's transaction itself (COMMIT or ROLLBACK on the client it was
 * given), so the processed-event row and the handler's work no longer commit together. A bug in
 * the handler; not retriable.
 */
export class IdempotencyTransactionEndedError extends EvkitError {
  readonly code = 'EVKIT_IDEMPOTENCY_TRANSACTION_ENDED';
}

/**
 * A statement of a batched handler whose attempt was abandoned (timed out, or the consumer
 * stopped): its work was rolled back to its savepoint and it may no longer use the batch's
 * client, which the next event's handler is using. Not retriable: the attempt is over.
 */
export class IdempotencyAttemptAbandonedError extends EvkitError {
  readonly code = 'EVKIT_IDEMPOTENCY_ATTEMPT_ABANDONED';
}
