import { EvkitError, type EvkitErrorOptions } from '@evkit/errors';

/** An event attribute is missing, of the wrong type or malformed; `attribute` names it. */
export class InvalidEventError extends EvkitError {
  readonly code = 'EVKIT_ENVELOPE_INVALID_ATTRIBUTE';
  constructor(
    readonly attribute: string,
    problem: string,
    options?: EvkitErrorOptions,
  ) {
    super(`CloudEvent attribute '${attribute}' ${problem}`, options);
  }
}

/** A Kafka record is not a CloudEvent in either binding mode: missing, duplicated or undecodable `ce_` headers. */
export class MalformedRecordError extends EvkitError {
  readonly code = 'EVKIT_ENVELOPE_MALFORMED_RECORD';
}

/** The record's `content-type` names a format evkit does not read (e.g. structured JSON when Avro is expected). */
export class UnsupportedContentTypeError extends EvkitError {
  readonly code = 'EVKIT_ENVELOPE_UNSUPPORTED_CONTENT_TYPE';
}
