import { EvkitError } from '@evkit/errors';

/** An option or argument is unusable (table name, batch size, missing onError); the message names it. */
export class OutboxConfigError extends EvkitError {
  readonly code = 'EVKIT_OUTBOX_INVALID_OPTIONS';
}

/**
 * The event cannot travel through the outbox as it is: its id is not a lower-case UUID (the `id`
 * column is a uuid), it has extensions (no column carries them), or its partitionkey is not the
 * aggregate id. Nothing was written.
 */
export class OutboxEventError extends EvkitError {
  readonly code = 'EVKIT_OUTBOX_INVALID_EVENT';
}

/**
 * `write` was given a client that is not inside a transaction (or a pool): the outbox row would
 * commit on its own, apart from the business change. Nothing was written.
 */
export class OutboxTransactionError extends EvkitError {
  readonly code = 'EVKIT_OUTBOX_NOT_IN_TRANSACTION';
}

/**
 * The INSERT of the outbox row failed; `cause` is the driver's error. The caller's transaction is
 * aborted and must roll back. Retriable for serialization failures, deadlocks and lost connections.
 */
export class OutboxWriteError extends EvkitError {
  readonly code = 'EVKIT_OUTBOX_WRITE_FAILED';
}

/** PostgreSQL failed during a migration, a relay batch, retention or a lag query; `cause` is the driver's error. */
export class OutboxDatabaseError extends EvkitError {
  readonly code = 'EVKIT_OUTBOX_DATABASE_FAILED';
}
