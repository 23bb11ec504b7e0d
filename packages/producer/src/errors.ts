import { EvkitError } from '@evkit/errors';

/** The producer's options are unusable; the message names the option. */
export class ProducerConfigError extends EvkitError {
  readonly code = 'EVKIT_PRODUCER_INVALID_OPTIONS';
}

/** `publish` after `disconnect` began: the event was not sent. */
export class ProducerClosedError extends EvkitError {
  readonly code = 'EVKIT_PRODUCER_CLOSED';
}
