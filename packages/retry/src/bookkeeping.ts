import { boundedText } from '@evkit/errors';
import type { HeaderValue, RecordHeaders } from '@evkit/envelope';
import type { IncomingRecord } from '@evkit/transport';
import { MalformedRetryHeadersError } from './errors';
import { DLT_HEADERS, RETRY_HEADERS } from './headers';

// The one reader of evkit's bookkeeping headers. Any producer can set them on any record, so
// every value is checked before it steers a record: a bad one is an error with a stable code,
// never a plain exception, a timer past Node's limit or a record sent to a topic it names.

/** Attempts a record can have made; also the largest `maxAttempts`. */
export const MAX_ATTEMPTS = 1000;
const INT32_MAX = 2 ** 31 - 1;
const INT64_MAX = 2n ** 63n - 1n;
/** The largest time a Date holds. */
const MAX_TIME_MS = 8.64e15;
/** evkit's numeric headers are short decimal text: anything longer is refused before decoding. */
const MAX_NUMBER_BYTES = 24;
const MAX_TOPIC_LENGTH = 249;
const TOPIC_NAME = /^[a-zA-Z0-9._-]+$/;

/** Where a record first came from. */
export interface RecordSource {
  topic: string;
  partition: number;
  offset: string;
  timestamp: number;
}

export interface RetryBookkeeping {
  /** Attempts made before this delivery: 0 for a record read from its source topic. */
  attempt: number;
  source: RecordSource;
  /** When its first attempt failed, ms since the epoch; undefined for a fresh record. */
  firstFailureAt: number | undefined;
  /** Set on a record read from a retry tier: when it is due, and the tier's delay. */
  retry: { notBefore: number; tierDelayMs: number } | undefined;
}

export type BookkeepingResult = { ok: true; bookkeeping: RetryBookkeeping } | { ok: false; error: MalformedRetryHeadersError; bookkeeping: RetryBookkeeping };

/** A record with no bookkeeping: it is its own source. */
export function freshBookkeeping(record: IncomingRecord): RetryBookkeeping {
  return {
    attempt: 0,
    source: { topic: record.topic, partition: record.partition, offset: record.offset, timestamp: record.timestamp },
    firstFailureAt: undefined,
    retry: undefined,
  };
}

const RETRY_NAMES = Object.values(RETRY_HEADERS);
const RETRY_PREFIX = 'evkit_retry-';

/**
 * The retry bookkeeping of `record`. `tierDelayOf(sourceTopic, topic)` says whether `topic` is a
 * retry tier of `sourceTopic` and its delay: bookkeeping is only believed on a record read from a
 * tier of the topic it names (evkit writes it nowhere else). Malformed bookkeeping comes back
 * with the error and the record as a fresh one.
 */
export function parseRetryBookkeeping(record: IncomingRecord, tierDelayOf: (sourceTopic: string, topic: string) => number | undefined): BookkeepingResult {
  const { headers } = record;
  let present = false;
  for (const name in headers) {
    if (name.startsWith(RETRY_PREFIX)) {
      present = true;
      break;
    }
  }
  if (!present) return { ok: true, bookkeeping: freshBookkeeping(record) };
  try {
    const missing = RETRY_NAMES.filter((name) => headers[name] === undefined || headers[name] === null);
    if (missing.length > 0) throw malformed(missing[0]!, `is missing (evkit writes every ${RETRY_PREFIX} header together)`);
    const topic = readTopic(headers, RETRY_HEADERS.originalTopic)!;
    const tierDelayMs = tierDelayOf(topic, record.topic);
    if (tierDelayMs === undefined) {
      throw malformed(RETRY_HEADERS.originalTopic, `names ${topic}, but the record was read from ${record.topic}, which is not one of its retry topics`);
    }
    return {
      ok: true,
      bookkeeping: {
        attempt: readInteger(headers, RETRY_HEADERS.attempt, 1, MAX_ATTEMPTS)!,
        source: {
          topic,
          partition: readInteger(headers, RETRY_HEADERS.originalPartition, 0, INT32_MAX)!,
          offset: readOffset(headers, RETRY_HEADERS.originalOffset)!,
          timestamp: readInteger(headers, RETRY_HEADERS.originalTimestamp, -1, MAX_TIME_MS)!,
        },
        firstFailureAt: readInteger(headers, RETRY_HEADERS.firstFailure, 0, MAX_TIME_MS)!,
        retry: { notBefore: readInteger(headers, RETRY_HEADERS.notBefore, 0, MAX_TIME_MS)!, tierDelayMs },
      },
    };
  } catch (error) {
    if (!(error instanceof MalformedRetryHeadersError)) throw error;
    return { ok: false, error, bookkeeping: freshBookkeeping(record) };
  }
}

/** What a dead-letter record's headers say, each value checked; a malformed one reads as absent. */
export interface DeadLetterHeaders {
  original: { topic: string | undefined; partition: number | undefined; offset: string | undefined; timestamp: string | undefined };
  consumerGroup: string | undefined;
  handler: string | undefined;
  errorClass: string | undefined;
  errorCode: string | undefined;
  errorMessage: string | undefined;
  attempts: number | undefined;
  firstFailure: string | undefined;
  lastFailure: string | undefined;
  /** Why each value read as absent was refused. */
  problems: string[];
}

export function parseDeadLetterHeaders(headers: RecordHeaders): DeadLetterHeaders {
  const problems: string[] = [];
  const lenient = <T>(read: () => T | undefined): T | undefined => {
    try {
      return read();
    } catch (error) {
      if (!(error instanceof MalformedRetryHeadersError)) throw error;
      problems.push(error.message);
      return undefined;
    }
  };
  const text = (name: string) => lenient(() => readDisplayText(headers, name));
  const time = (name: string) => lenient(() => readIsoTime(headers, name));
  const partition = lenient(() => readBinaryInteger(headers, DLT_HEADERS.originalPartition, 4));
  const offset = lenient(() => readBinaryInteger(headers, DLT_HEADERS.originalOffset, 8));
  const timestamp = lenient(() => readBinaryInteger(headers, DLT_HEADERS.originalTimestamp, 8));
  return {
    original: {
      topic: lenient(() => readTopic(headers, DLT_HEADERS.originalTopic)),
      partition: partition === undefined ? undefined : Number(partition),
      offset: offset?.toString(),
      timestamp: timestamp?.toString(),
    },
    consumerGroup: text(DLT_HEADERS.originalConsumerGroup),
    handler: text(DLT_HEADERS.handler),
    errorClass: text(DLT_HEADERS.exceptionClass),
    errorCode: text(DLT_HEADERS.errorCode),
    errorMessage: text(DLT_HEADERS.exceptionMessage),
    attempts: lenient(() => readInteger(headers, DLT_HEADERS.attempts, 0, MAX_ATTEMPTS)),
    firstFailure: time(DLT_HEADERS.firstFailure),
    lastFailure: time(DLT_HEADERS.lastFailure),
    problems,
  };
}

function malformed(header: string, problem: string): MalformedRetryHeadersError {
  return new MalformedRetryHeadersError(header, problem);
}

/** The header's single value, or undefined when absent; a repeated header is malformed. */
function single(headers: RecordHeaders, name: string): Buffer | string | undefined {
  const value: HeaderValue | null = headers[name];
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) throw malformed(name, `appears ${value.length} times`);
  return value;
}

/** Short ASCII text (numbers, topic names): longer values are refused before they are decoded. */
function readAscii(headers: RecordHeaders, name: string, maxBytes: number): string | undefined {
  const value = single(headers, name);
  if (value === undefined) return undefined;
  if (value.length > maxBytes) throw malformed(name, `is ${value.length} long, more than the ${maxBytes} it can be`);
  return typeof value === 'string' ? value : value.toString('latin1');
}

const quote = (text: string) => JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);

function readInteger(headers: RecordHeaders, name: string, min: number, max: number): number | undefined {
  const text = readAscii(headers, name, MAX_NUMBER_BYTES);
  if (text === undefined) return undefined;
  const value = /^-?(0|[1-9]\d{0,15})$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= min && value <= max)) throw malformed(name, `${quote(text)} is not an integer from ${min} to ${max}`);
  return value;
}

/** A Kafka offset: a non-negative 64-bit decimal, kept as text. */
function readOffset(headers: RecordHeaders, name: string): string | undefined {
  const text = readAscii(headers, name, MAX_NUMBER_BYTES);
  if (text === undefined) return undefined;
  if (!/^(0|[1-9]\d{0,18})$/.test(text) || BigInt(text) > INT64_MAX) throw malformed(name, `${quote(text)} is not an offset (a non-negative 64-bit decimal)`);
  return text;
}

function readTopic(headers: RecordHeaders, name: string): string | undefined {
  const text = readAscii(headers, name, MAX_TOPIC_LENGTH);
  if (text === undefined) return undefined;
  if (!TOPIC_NAME.test(text) || text === '.' || text === '..') throw malformed(name, `${quote(text)} is not a Kafka topic name`);
  return text;
}

/** Spring's big-endian integers: 4 bytes for a partition, 8 for an offset or timestamp; never negative. */
function readBinaryInteger(headers: RecordHeaders, name: string, bytes: 4 | 8): bigint | undefined {
  const value = single(headers, name);
  if (value === undefined) return undefined;
  if (!Buffer.isBuffer(value) || value.length !== bytes) throw malformed(name, `is not a ${bytes}-byte big-endian integer`);
  const number = bytes === 4 ? BigInt(value.readInt32BE()) : value.readBigInt64BE();
  if (number < 0n) throw malformed(name, `is negative (${number})`);
  return number;
}

function readIsoTime(headers: RecordHeaders, name: string): string | undefined {
  const text = readAscii(headers, name, 40);
  if (text === undefined) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(text) || Number.isNaN(Date.parse(text))) throw malformed(name, `${quote(text)} is not an ISO 8601 UTC time`);
  return text;
}

/** Text shown to an operator (error messages, names): credentials removed, bounded. */
function readDisplayText(headers: RecordHeaders, name: string): string | undefined {
  const value = single(headers, name);
  if (value === undefined) return undefined;
  // Decoding stops where the bound would cut anyway: a forged header may be megabytes.
  return boundedText(typeof value === 'string' ? value : value.toString('utf8', 0, Math.min(value.length, 64 * 1024)));
}
