import { EvkitError } from '@evkit/errors';

/** An option of `createEvkit` or of one of its factories is missing or unusable; the message names it. */
export class ServiceConfigError extends EvkitError {
  readonly code = 'EVKIT_SERVICE_INVALID_OPTIONS';
}

/**
 * An event type that is not in the catalogue was published or written. TypeScript refuses it at
 * compile time; this is for callers the compiler did not check.
 */
export class UnknownCatalogueTypeError extends EvkitError {
  readonly code = 'EVKIT_SERVICE_UNKNOWN_EVENT_TYPE';
}

/** `close()` was called: nothing more is created or published through this evkit. */
export class ServiceClosedError extends EvkitError {
  readonly code = 'EVKIT_SERVICE_CLOSED';
}
