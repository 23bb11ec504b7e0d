import { EvkitError, type EvkitErrorOptions } from '@evkit/errors';

/** Retry or replay options are unusable; the message names the option. */
export class RetryConfigError extends EvkitError {
  readonly code = 'EVKIT_RETRY_INVALID_OPTIONS';
}

/**
 * A record could not be written to its retry or dead-letter topic. The source offset is not
 * committed, so the record is delivered again.
 */
export class FailureRoutingError extends EvkitError {
  readonly code = 'EVKIT_RETRY_ROUTING_FAILED';
}

/** Throw from a handler for a failure no retry can fix (bad data): it goes straight to the dead-letter topic. */
export class NonRetriableError extends EvkitError {
  readonly code = 'EVKIT_RETRY_NON_RETRIABLE';
}

/**
 * A record carries evkit's retry or dead-letter headers with a value evkit never writes: not a
 * number in range, not an offset, not a topic name, repeated, or on a record not read from a
 * retry topic. `header` names it. The record is dead-lettered as a fresh one, never retried.
 */
export class MalformedRetryHeadersError extends EvkitError {
  readonly code = 'EVKIT_RETRY_MALFORMED_HEADERS';
  constructor(
    readonly header: string,
    problem: string,
    options?: EvkitErrorOptions,
  ) {
    super(`header ${header} ${problem}`, options);
  }
}
