import { EvkitError } from '@evkit/errors';

/** The consumer's options are unusable; the message names the option. */
export class ConsumerConfigError extends EvkitError {
  readonly code = 'EVKIT_CONSUMER_INVALID_OPTIONS';
}

/** No handler is registered for the event's type and the policy is `fail`. */
export class UnknownEventTypeError extends EvkitError {
  readonly code = 'EVKIT_CONSUMER_UNKNOWN_EVENT_TYPE';
  constructor(readonly eventType: string) {
    super(`no handler for event type ${eventType}`);
  }
}

/** A handler did not finish within the timeout; it is retried, and its signal was aborted. */
export class HandlerTimeoutError extends EvkitError {
  readonly code = 'EVKIT_CONSUMER_HANDLER_TIMEOUT';
}
