import { EvkitError, type EvkitErrorOptions } from '@evkit/errors';

/** A transport's options are unusable; the message names the option. */
export class TransportConfigError extends EvkitError {
  readonly code = 'EVKIT_TRANSPORT_INVALID_OPTIONS';
}

/** The transport package of the chosen `client` is not installed; the message names the package to install. */
export class TransportNotInstalledError extends EvkitError {
  readonly code = 'EVKIT_TRANSPORT_NOT_INSTALLED';
}

/** An operation was called in a state that does not allow it, e.g. `run` twice on one subscriber. */
export class TransportStateError extends EvkitError {
  readonly code = 'EVKIT_TRANSPORT_INVALID_STATE';
}

/** The client could not connect to the cluster (unreachable, TLS or SASL refused). */
export class TransportConnectError extends EvkitError {
  readonly code = 'EVKIT_TRANSPORT_CONNECT_FAILED';
}

/**
 * Records were not all acknowledged; none of the positions of that `send` are known. When
 * `outcomeUnknown` is true a request may have reached the broker, so each record may or may not
 * be on its topic: send it again with the same event id and let the consumers' dedupe absorb
 * the copy. When false, nothing was sent.
 */
export class TransportSendError extends EvkitError {
  readonly code = 'EVKIT_TRANSPORT_SEND_FAILED';
  readonly outcomeUnknown: boolean;
  constructor(message: string, options: EvkitErrorOptions & { outcomeUnknown: boolean }) {
    super(message, options);
    this.outcomeUnknown = options.outcomeUnknown;
  }
}

/** An offset commit failed for a reason other than the partition no longer being assigned. */
export class TransportCommitError extends EvkitError {
  readonly code = 'EVKIT_TRANSPORT_COMMIT_FAILED';
}

/** The group's committed offsets or the partitions' high watermarks could not be read. */
export class TransportOffsetsError extends EvkitError {
  readonly code = 'EVKIT_TRANSPORT_OFFSETS_FAILED';
}

/**
 * `ensureTopics` failed: a topic could not be created, the topic to size it like could not be
 * described, or a new partition had no leader in time.
 */
export class TransportTopicsError extends EvkitError {
  readonly code = 'EVKIT_TRANSPORT_TOPICS_FAILED';
}

/** The client's consumer stopped on an error; `restarting` says whether it rejoins by itself. */
export class ConsumerCrashError extends EvkitError {
  readonly code = 'EVKIT_TRANSPORT_CONSUMER_CRASHED';
  constructor(
    message: string,
    readonly restarting: boolean,
    options: Pick<EvkitErrorOptions, 'cause'> = {},
  ) {
    // Retriable exactly when the consumer comes back by itself.
    super(message, { ...options, retriable: restarting });
  }
}

/**
 * `handleBatch` threw. The partition was sought back to `redeliverFrom` (the first offset the
 * handler had not committed), so those records are delivered again; `cause` is what it threw.
 */
export class BatchHandlerError extends EvkitError {
  readonly code = 'EVKIT_TRANSPORT_HANDLER_FAILED';
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly redeliverFrom: string,
    cause: unknown,
  ) {
    super(
      `handleBatch failed for ${topic}[${partition}]; redelivering from offset ${redeliverFrom}: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}
