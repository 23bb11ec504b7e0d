import { EvkitError, type EvkitErrorOptions } from '@evkit/errors';

/** A schema is not valid Avro (unparseable JSON, unknown type, bad default). */
export class InvalidSchemaError extends EvkitError {
  readonly code = 'EVKIT_CODEC_INVALID_SCHEMA';
}

/** The codec's options are unusable; the message names the option. */
export class CodecConfigError extends EvkitError {
  readonly code = 'EVKIT_CODEC_INVALID_OPTIONS';
}

/** The value does not start with the Confluent wire format's magic byte 0. */
export class BadMagicByteError extends EvkitError {
  readonly code = 'EVKIT_CODEC_BAD_MAGIC_BYTE';
}

/** The value is too short, truncated, or its Avro bytes do not decode with the writer schema. */
export class CorruptPayloadError extends EvkitError {
  readonly code = 'EVKIT_CODEC_CORRUPT_PAYLOAD';
}

/**
 * The Avro value may be well-formed but exceeds what one decode may cost: more array or map
 * entries than its length allows (entries of zero-byte types such as null), or records nested
 * deeper than the limit. Refused before anything is allocated.
 */
export class DecodeBudgetExceededError extends EvkitError {
  readonly code = 'EVKIT_CODEC_DECODE_BUDGET_EXCEEDED';
}

/** The registry does not know the schema id a record names. */
export class UnknownSchemaIdError extends EvkitError {
  readonly code = 'EVKIT_CODEC_UNKNOWN_SCHEMA_ID';
  constructor(readonly schemaId: number) {
    super(`schema id ${schemaId} is not known to the registry`);
  }
}

/** The registry could not be reached or answered 5xx; trying again later may succeed. */
export class RegistryUnavailableError extends EvkitError {
  readonly code = 'EVKIT_CODEC_REGISTRY_UNAVAILABLE';
}

/** A registry response was larger than `maxResponseBytes` (default 4 MiB); it was cut off, not read. */
export class RegistryResponseTooLargeError extends EvkitError {
  readonly code = 'EVKIT_CODEC_REGISTRY_RESPONSE_TOO_LARGE';
}

/** The registry refused a request for a reason other than compatibility (4xx). */
export class RegistryRequestError extends EvkitError {
  readonly code = 'EVKIT_CODEC_REGISTRY_REQUEST_FAILED';
}

export interface IncompatibleVersion {
  version: number;
  reasons: string[];
}

/** A schema breaks the subject's compatibility with one or more registered versions; nothing was published. */
export class IncompatibleSchemaError extends EvkitError {
  readonly code = 'EVKIT_CODEC_INCOMPATIBLE_SCHEMA';
  constructor(
    readonly subject: string,
    readonly level: string,
    readonly incompatible: readonly IncompatibleVersion[],
    options?: EvkitErrorOptions,
  ) {
    super(
      `schema is not ${level}-compatible with subject '${subject}': ` +
        (incompatible.length === 0
          ? 'the registry refused to register it'
          : incompatible.map((v) => `version ${v.version}${v.reasons.length > 0 ? ` (${v.reasons.join('; ')})` : ''}`).join(', ')),
      options,
    );
  }
}

/** The subject's compatibility level is weaker than the one evkit requires, and no opt-out was given. */
export class CompatibilityTooWeakError extends EvkitError {
  readonly code = 'EVKIT_CODEC_COMPATIBILITY_TOO_WEAK';
}

/** Runtime registration is off and the schema is not registered under the subject. */
export class SchemaNotRegisteredError extends EvkitError {
  readonly code = 'EVKIT_CODEC_SCHEMA_NOT_REGISTERED';
}

/** The event's data does not match its Avro schema; the message lists the paths at fault. */
export class InvalidPayloadError extends EvkitError {
  readonly code = 'EVKIT_CODEC_INVALID_PAYLOAD';
}

/** The consumer's reader schema cannot read data written with the record's writer schema. */
export class ReaderSchemaMismatchError extends EvkitError {
  readonly code = 'EVKIT_CODEC_READER_SCHEMA_MISMATCH';
}
