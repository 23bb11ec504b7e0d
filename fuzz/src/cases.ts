import { isEvkitError } from '@evkit/errors';
import type { KafkaRecord, RecordHeaders } from '@evkit/envelope';
import { parseRetryBookkeeping, readDeadLetterEntry, RETRY_HEADERS } from '@evkit/retry';
import type { Corpus } from './corpus';
import { mutateBytes, mutateHeaders } from './mutate';
import { randomFor, type Random } from './random';

// One fuzz case: a target (which part of the consumer's decode path it aims at) and the hostile
// record made for it, a pure function of (seed, index).

export const TARGETS = ['wire', 'avro', 'avro+reader', 'structured', 'structured+reader', 'ce-headers', 'retry-headers', 'dlt-headers'] as const;
export type Target = (typeof TARGETS)[number];

export interface FuzzCase {
  index: number;
  target: Target;
  record: KafkaRecord & { topic: string; partition: number; offset: string; timestamp: number };
  readerSchema: unknown;
}

/** What one case came to: decoded, a typed EvkitError (by code), or anything else. */
export type Outcome = { kind: 'ok' } | { kind: 'typed'; code: string } | { kind: 'untyped'; message: string };

const WEIGHTS: [Target, number][] = [
  ['wire', 8],
  ['avro', 22],
  ['avro+reader', 22],
  ['structured', 10],
  ['structured+reader', 10],
  ['ce-headers', 12],
  ['retry-headers', 12],
  ['dlt-headers', 4],
];
const TOTAL_WEIGHT = WEIGHTS.reduce((sum, [, w]) => sum + w, 0);

function targetOf(rng: Random): Target {
  let roll = rng.int(TOTAL_WEIGHT);
  for (const [target, weight] of WEIGHTS) {
    if ((roll -= weight) < 0) return target;
  }
  return 'avro';
}

const SOURCE_TOPIC = 'orders';
const RETRY_TOPIC = 'orders-retry-1';
const tierDelayOf = (source: string, topic: string) => (source === SOURCE_TOPIC && topic === RETRY_TOPIC ? 1000 : undefined);

/** Bookkeeping as evkit writes it on a record bound for its first retry tier. */
const retryHeaders = (): RecordHeaders => ({
  [RETRY_HEADERS.attempt]: Buffer.from('1'),
  [RETRY_HEADERS.notBefore]: Buffer.from('1767225601000'),
  [RETRY_HEADERS.originalTopic]: Buffer.from(SOURCE_TOPIC),
  [RETRY_HEADERS.originalPartition]: Buffer.from('3'),
  [RETRY_HEADERS.originalOffset]: Buffer.from('42'),
  [RETRY_HEADERS.originalTimestamp]: Buffer.from('1767225600000'),
  [RETRY_HEADERS.firstFailure]: Buffer.from('1767225600500'),
});
const dltHeaders = (): RecordHeaders => ({
  'kafka_dlt-original-topic': Buffer.from(SOURCE_TOPIC),
  'kafka_dlt-original-partition': Buffer.from([0, 0, 0, 3]),
  'kafka_dlt-original-offset': Buffer.from([0, 0, 0, 0, 0, 0, 0, 42]),
  'kafka_dlt-original-timestamp': Buffer.from([0, 0, 1, 0x9b, 0x7a, 0x4c, 0, 0]),
  'kafka_dlt-exception-message': Buffer.from('boom'),
  'evkit_dlt-error-code': Buffer.from('EVKIT_X'),
  'evkit_dlt-attempts': Buffer.from('4'),
});

export function makeCase(corpus: Corpus, seed: number, index: number): FuzzCase {
  const rng = randomFor(seed, index);
  const target = targetOf(rng);
  const structured = target.startsWith('structured');
  const seeds = corpus.seeds.filter((s) => (s.mode === 'structured') === structured);
  const source = rng.pick(seeds);
  const { key } = source.record;
  let { value, headers } = source.record;
  switch (target) {
    case 'wire': {
      const header = Buffer.from(value!.subarray(0, 5));
      if (rng.chance(0.3)) header[0] = rng.int(256);
      else header.writeInt32BE(rng.chance(0.5) ? rng.pick(corpus.schemaIds) : rng.int(2 ** 31) * (rng.chance(0.1) ? -1 : 1), 1);
      value = Buffer.concat([header.subarray(0, rng.chance(0.1) ? rng.int(5) : 5), value!.subarray(5)]);
      break;
    }
    case 'ce-headers':
      headers = mutateHeaders(rng, headers);
      break;
    case 'retry-headers':
      headers = mutateHeaders(rng, { ...headers, ...retryHeaders() });
      break;
    case 'dlt-headers':
      headers = mutateHeaders(rng, { ...headers, ...dltHeaders() });
      break;
    default:
      // The Avro bytes, and now and then the whole value, header included.
      value = mutateBytes(rng, value!, rng.chance(0.9) ? 5 : 0);
  }
  return {
    index,
    target,
    record: { key, value, headers, topic: target === 'retry-headers' ? RETRY_TOPIC : SOURCE_TOPIC, partition: 0, offset: String(index), timestamp: 1_767_225_600_000 },
    readerSchema: target.endsWith('+reader') ? source.readerSchema : undefined,
  };
}

export async function runCase(corpus: Corpus, fuzzCase: FuzzCase): Promise<Outcome> {
  try {
    const { record, target } = fuzzCase;
    if (target === 'retry-headers') {
      const result = parseRetryBookkeeping(record, tierDelayOf);
      return result.ok ? { kind: 'ok' } : { kind: 'typed', code: result.error.code };
    }
    if (target === 'dlt-headers') {
      readDeadLetterEntry(record);
      return { kind: 'ok' };
    }
    const options = fuzzCase.readerSchema === undefined ? {} : { readerSchema: fuzzCase.readerSchema as object };
    await corpus.codec.decode(record, options);
    return { kind: 'ok' };
  } catch (error) {
    if (isEvkitError(error)) return { kind: 'typed', code: error.code };
    return { kind: 'untyped', message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
}

/** The input of a case, for a report: target, value and headers in hex, cut at 600 characters. */
export function describeCase(fuzzCase: FuzzCase): string {
  const hex = (v: unknown) => (Buffer.isBuffer(v) ? v.toString('hex') : JSON.stringify(v));
  const headers = Object.entries(fuzzCase.record.headers).map(([k, v]) => `${k}=${Array.isArray(v) ? v.map(hex).join('|') : hex(v)}`);
  const text = `#${fuzzCase.index} ${fuzzCase.target} value=${hex(fuzzCase.record.value)} headers: ${headers.join(' ')}`;
  return text.length > 600 ? `${text.slice(0, 600)}…` : text;
}
