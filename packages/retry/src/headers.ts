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

export function readText(headers: RecordHeaders, name: string): string | undefined {
  const value = headers[name];
  if (value === undefined || Array.isArray(value)) return undefined;
  return typeof value === 'string' ? value : value.toString('utf8');
}

/** evkit's own numeric headers are decimal text, readable in any tool. */
export function readNumber(headers: RecordHeaders, name: string): number | undefined {
  const text = readText(headers, name);
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
}

const STACK_LIMIT = 2048;
const MESSAGE_LIMIT = 1024;
/**
 * Room a retry or dead-letter topic keeps above its source topic's record size limit for the
 * headers routing adds: the limits above at 4 bytes a character, the rest, and ample margin.
 */
export const ROUTING_HEADROOM_BYTES = 64 * 1024;

// Secrets that turn up in error messages: credentials in URLs, key=value pairs, auth headers.
const SECRET_PATTERNS: [RegExp, string][] = [
  [/(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/:@]+:[^\s/@]+@/gi, '$1***:***@'],
  [/\b(password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|client[_-]?secret)(["']?\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s,;&]+)/gi, '$1$2***'],
  [/\b(authorization)(\s*[:=]\s*)(basic|bearer)?\s*[^\s,;]+/gi, '$1$2$3 ***'],
  [/\bBearer\s+[A-Za-z0-9._~+/-]+=*/g, 'Bearer ***'],
];

/** Removes credentials from text bound for a header or a log line. */
export function redactSecrets(text: string): string {
  return SECRET_PATTERNS.reduce((out, [pattern, replacement]) => out.replace(pattern, replacement), text);
}

export function truncate(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit)}… (${text.length - limit} more characters)`;
}

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
    errorClass: err?.name ?? typeof error,
    code: typeof code === 'string' ? code : undefined,
    message: truncate(redactSecrets(err?.message ?? JSON.stringify(error) ?? String(error)), MESSAGE_LIMIT),
    stack: err?.stack === undefined ? undefined : truncate(redactSecrets(err.stack), STACK_LIMIT),
    retriable,
  };
}
