export { createEvent, createGeneratedEvent, newEventId, nowTimestamp, validateEvent, KNOWN_ATTRIBUTES, SPEC_VERSION } from './event';
export type { CloudEvent, CloudEventAttributes, CloudEventInit, GeneratedAttributes, KnownAttribute } from './event';
export {
  bindingModeOf,
  fromBinaryRecord,
  headerText,
  toBinaryRecord,
  withData,
  CE_HEADER_PREFIX,
  CONTENT_TYPE_HEADER,
  STRUCTURED_AVRO_CONTENT_TYPE,
  STRUCTURED_CONTENT_TYPE_PREFIX,
} from './kafka-binding';
export type { BindingMode, HeaderValue, KafkaRecord, RecordHeaders } from './kafka-binding';
export { InvalidEventError, MalformedRecordError, UnsupportedContentTypeError } from './errors';
export { activeEvent, correlationFor, runWithEventContext } from './event-context';
