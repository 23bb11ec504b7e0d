export { createAvroCodec } from './avro-codec';
export type { AvroCodec, AvroCodecOptions, AvroSchema, DecodedRecord, DecodeOptions } from './avro-codec';
export { createRegistryClient } from './registry-client';
export type { RegistryOptions, SchemaRegistryClient } from './registry-client';
export { checkCompatibility, isCompatibilityLevel, COMPATIBILITY_LEVELS } from './compatibility';
export type { CompatibilityLevel, CompatibilityResult, CompatibilityViolation, SchemaVersion } from './compatibility';
export { satisfiesCompatibility } from './schema-enforcement';
export { DEFAULT_SUBJECT_NAME_STRATEGY, SUBJECT_NAME_STRATEGIES } from './subject-naming';
export type { SubjectNameStrategy } from './subject-naming';
export { MAGIC_BYTE, parseWire, wireHeader } from './wire-format';
export type { WireParts } from './wire-format';
export {
  BadMagicByteError,
  CodecConfigError,
  CompatibilityTooWeakError,
  CorruptPayloadError,
  DecodeBudgetExceededError,
  IncompatibleSchemaError,
  InvalidPayloadError,
  InvalidSchemaError,
  ReaderSchemaMismatchError,
  RegistryRequestError,
  RegistryResponseTooLargeError,
  RegistryUnavailableError,
  SchemaNotRegisteredError,
  UnknownSchemaIdError,
} from './errors';
export type { IncompatibleVersion } from './errors';
export { createInMemoryRegistry } from './in-memory-registry';
export type { InMemoryRegistry } from './in-memory-registry';
