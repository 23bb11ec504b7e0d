export { spanContextFromTraceparent, traceHeadersOf } from './trace-context';
export { recordSpanFailure, startProducerSpan, withConsumerSpan } from './spans';
export type { ConsumedRecordInfo, SpanEventAttributes } from './spans';
export { childLogger, createJsonLogger, eventLogFields } from './logger';
export type { LogFields, Logger, LogLevel } from './logger';
