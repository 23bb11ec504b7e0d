import { boundedText, errorMessageOf } from '@evkit/errors';
import type { RecordHeaders } from '@evkit/envelope';

// Dead-letter headers: Spring Kafka's names and encodings where they fit (its tooling reads
// them: partition as a 4-byte and offset and timestamp as 8-byte big-endian integers), evkit's
// own for the rest.
export const DLT_HEADERS = {
  originalTopic: 'kafka_dlt-original-topic',
  originalPartition: 'kafka_dlt-original-partition',
  originalOffset: 'kafka_dlt-original-offset',
  originalTimestamp: 'kafka_dlt-original-timestamp',
  originalTimestampType: 'kafka_dlt-original-timestamp-type',
  originalConsumerGroup: 'kafka_dlt-original-consumer-group',
  exceptionClass: 'kafka_dlt-exception-fqcn',
  exceptionMessage: 'kafka_dlt-exception-message',
  exceptionStacktrace: 'kafka_dlt-exception-stacktrace',
  errorCode: 'evkit_dlt-error-code',
  retriable: 'evkit_dlt-retriable',
  handler: 'evkit_dlt-handler',
  attempts: 'evkit_dlt-attempts',
  firstFailure: 'evkit_dlt-first-failure',
  lastFailure: 'evkit_dlt-last-failure',
} as const;

// Retry bookkeeping carried by a record on its way through the retry tiers.
export const RETRY_HEADERS = {
  attempt: 'evkit_retry-attempt',
  notBefore: 'evkit_retry-not-before',
  originalTopic: 'evkit_retry-original-topic',
  originalPartition: 'evkit_retry-original-partition',
  originalOffset: 'evkit_retry-original-offset',
  originalTimestamp: 'evkit_retry-original-timestamp',
  firstFailure: 'evkit_retry-first-failure',
} as const;

// Added by a replay, so a replayed record can be told from the original.
export const REPLAY_HEADERS = {
  replayedAt: 'evkit_replay-at',
  replayedFrom: 'evkit_replay-from',
} as const;

const BOOKKEEPING_PREFIXES = ['kafka_dlt-', 'evkit_dlt-', 'evkit_retry-', 'evkit_replay-'];

/** The record's own headers: without retry, dead-letter and replay bookkeeping. */
export function originalHeaders(headers: RecordHeaders): RecordHeaders {
  const kept: RecordHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!BOOKKEEPING_PREFIXES.some((prefix) => name.startsWith(prefix))) kept[name] = value;
  }
  return kept;
}

export function int32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeInt32BE(value);
  return buffer;
}

export function int64(value: bigint | number | string): Buffer {
  const buffer = Buffer.alloc(8);
  buffer.writeBigInt64BE(BigInt(value));
  return buffer;
}

/** A Spring-style 4-byte big-endian integer header. */
export function readInt32(headers: RecordHeaders, name: string): number | undefined {
  const value = headers[name];
  return Buffer.isBuffer(value) && value.length === 4 ? value.readInt32BE() : undefined;
}

/** A Spring-style 8-byte big-endian integer header. */
export function readInt64(headers: RecordHeaders, name: string): bigint | undefined {
  const value = headers[name];
  return Buffer.isBuffer(value) && value.length === 8 ? value.readBigInt64BE() : undefined;
}

const STACK_LIMIT = 2048;
const MESSAGE_LIMIT = 1024;
const NAME_LIMIT = 256;
/**
 * Room a retry or dead-letter topic keeps above its source topic's record size limit for the
 * headers routing adds: the limits above at 4 bytes a character, the rest, and ample margin.
 */
export const ROUTING_HEADROOM_BYTES = 64 * 1024;

export interface FailureDescription {
  errorClass: string;
  code: string | undefined;
  message: string;
  stack: string | undefined;
  retriable: boolean;
}

/** What is written about an error: class, code, a redacted message and a truncated, redacted stack. */
export function describeFailure(error: unknown, retriable: boolean): FailureDescription {
  const err = error instanceof Error ? error : undefined;
  const code = (error as { code?: unknown } | undefined)?.code;
  return {
    errorClass: boundedText(err?.name ?? typeof error, NAME_LIMIT),
    code: typeof code === 'string' ? boundedText(code, NAME_LIMIT) : undefined,
    message: boundedText(errorMessageOf(error), MESSAGE_LIMIT),
    stack: err?.stack === undefined ? undefined : boundedText(err.stack, STACK_LIMIT),
    retriable,
  };
}
