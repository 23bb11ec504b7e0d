import { boundedErrorText, EvkitError } from '@evkit/errors';
import { isRetriablePostgresError } from '@evkit/idempotency';

/** A saga definition or an option of createSaga / createSagaInspector is unusable; the message names it. */
export class SagaConfigError extends EvkitError {
  readonly code = 'EVKIT_SAGA_INVALID_OPTIONS';
}

/** `begin` was given the id of a saga that exists already: one id, one saga. */
export class SagaAlreadyExistsError extends EvkitError {
  readonly code = 'EVKIT_SAGA_ALREADY_EXISTS';
}

/** The saga row changed under a transition (its version moved): nothing was written; the transition is tried again. */
export class SagaConcurrentUpdateError extends EvkitError {
  readonly code = 'EVKIT_SAGA_CONCURRENT_UPDATE';
}

/** No saga has this id (never begun, or deleted by retention). */
export class SagaNotFoundError extends EvkitError {
  readonly code = 'EVKIT_SAGA_NOT_FOUND';
}

/** PostgreSQL failed while reading or writing saga state; `cause` holds the driver's error. */
export class SagaDatabaseError extends EvkitError {
  readonly code = 'EVKIT_SAGA_DATABASE_FAILED';
}

export function sagaDatabaseError(what: string, cause: unknown): SagaDatabaseError {
  return new SagaDatabaseError(`could not ${what}: ${boundedErrorText(cause)}`, { cause, retriable: isRetriablePostgresError(cause) });
}
