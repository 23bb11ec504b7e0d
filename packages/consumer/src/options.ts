import type { AvroCodec, AvroSchema } from '@evkit/codec';
import type { IdempotencyStore } from '@evkit/idempotency';
import type { Logger } from '@evkit/telemetry';
import { kafkaClientProblem, type IncomingRecord, type KafkaClientName, type KafkaSubscriberOptions, type SubscriberTransport, type TopicSpec } from '@evkit/transport';
import { MAX_TIMER_MS } from './backoff';
import { ConsumerConfigError } from './errors';
import type { Middleware } from './handler';
import type { PipelineEntry } from './pipeline';

export interface RouteOptions {
  /** Decode into this schema (reader-schema evolution). Default: the writer's schema. */
  readerSchema?: AvroSchema;
  /** Only records written with this schema id (routing by schema version); such a route wins over one without. */
  schemaId?: number;
  /** This handler's own middleware, inside the consumer's (so inside dedupe's transaction), first listed outermost. */
  middleware?: readonly Middleware[];
}

/** Omit on each member of a union (of both clients' options): TypeScript's keeps only the keys common to all. */
type OmitEach<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export interface ConsumerOptions<C extends KafkaClientName = KafkaClientName> {
  groupId: string;
  topics: readonly string[];
  codec: AvroCodec;
  /** A transport of your own: yours to disconnect after `stop()`, which only pauses it. By default one on `client` with `kafka`. */
  transport?: SubscriberTransport;
  /** The Kafka client of the transport made from `kafka`: its package must be installed. Default `'kafkajs'`. */
  client?: C;
  /**
   * The client's connection and group options. No `redeliveryDelayMs`: the consumer owns
   * back-off (`failureBackoff`), and creates the subscriber without one of its own.
   */
  kafka?: OmitEach<KafkaSubscriberOptions<C>, 'redeliveryDelayMs'>;
  /** Makes handlers idempotent (the `dedupe` middleware, innermost by default). */
  idempotency?: IdempotencyStore;
  /**
   * Dedupe per Kafka batch instead of per record, with a store that can (the PostgreSQL store):
   * one transaction per partition batch. A partition's records then run one after another
   * (`keyConcurrency` must stay 1); partitions still run at once. Default: on wherever that is
   * safe, i.e. with a store that batches and `keyConcurrency` 1; `false` dedupes per record.
   */
  dedupeBatching?: boolean;
  /**
   * Middleware around every handler, first listed outermost. Without a built-in named, the order
   * is: `tracing`, failure routing (`@evkit/retry`), `timeout`, the others as listed, `dedupe`.
   * Naming `'tracing'`, `'timeout'` or `'dedupe'` makes the list the whole order.
   */
  middleware?: readonly PipelineEntry[];
  /**
   * `skip` (default): warn, count and commit past it. `fail`: treat as a handler failure.
   * `dead-letter`: to the failure routing's dead-letter topic (a failure routing must be listed).
   */
  unknownEventTypes?: 'skip' | 'fail' | 'dead-letter';
  /** Records of different keys in one partition handled at once. Default 1 (one at a time). Same-key order always holds. */
  keyConcurrency?: number;
  /** Records in flight across all partitions. Default 64. */
  maxInFlight?: number;
  /** The `timeout` middleware: abort and fail an attempt after this long. Default none. */
  handlerTimeoutMs?: number;
  /** Back-off before a failed partition is delivered again: doubles from `initialMs` up to `maxMs`. */
  failureBackoff?: { initialMs?: number; maxMs?: number };
  /** Commit at least this often during a long batch. Default 1000 ms. */
  commitIntervalMs?: number;
  fromBeginning?: boolean;
  /** Topics created at `start` when missing; a spec can size a topic like another (`sizedLike`). */
  ensureTopics?: readonly (string | TopicSpec)[];
  /**
   * How long `start` keeps retrying a retriable failure (a broker not up yet, a group coordinator
   * still loading) with back-off before it gives up. Default 30000 ms.
   */
  startTimeoutMs?: number;
  logger?: Logger;
  /** Every failure that stops a partition, besides the error log line. */
  onError?: (error: unknown, record: IncomingRecord) => void;
}

/** The options with their defaults applied. */
export interface ResolvedOptions {
  keyConcurrency: number;
  maxInFlight: number;
  handlerTimeoutMs: number | undefined;
  backoffInitialMs: number;
  backoffMaxMs: number;
  commitIntervalMs: number;
  startTimeoutMs: number;
  unknownEventTypes: 'skip' | 'fail' | 'dead-letter';
  /** undefined: not given, decided by the store and keyConcurrency (createConsumer). */
  dedupeBatching: boolean | undefined;
}

type Check = (value: unknown) => string | undefined;
const integer =
  (min: number, max: number): Check =>
  (value) =>
    typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max ? undefined : `an integer from ${min} to ${max}`;
const oneOf =
  (...allowed: string[]): Check =>
  (value) =>
    typeof value === 'string' && allowed.includes(value) ? undefined : `one of ${allowed.join(', ')}`;
const boolean: Check = (value) => (typeof value === 'boolean' ? undefined : 'a boolean');
const TIMER = integer(1, MAX_TIMER_MS); // each is a timer: Node fires one longer than 2^31-1 ms at once

/** Every tunable option: where it is read, its default (undefined: off) and its check. One table, no if-chains. */
const TUNABLES: { [K in keyof ResolvedOptions]: { read: (o: ConsumerOptions) => unknown; name: string; fallback: ResolvedOptions[K]; check: Check } } = {
  keyConcurrency: { read: (o) => o.keyConcurrency, name: 'keyConcurrency', fallback: 1, check: integer(1, Number.MAX_SAFE_INTEGER) },
  maxInFlight: { read: (o) => o.maxInFlight, name: 'maxInFlight', fallback: 64, check: integer(1, Number.MAX_SAFE_INTEGER) },
  handlerTimeoutMs: { read: (o) => o.handlerTimeoutMs, name: 'handlerTimeoutMs', fallback: undefined, check: TIMER },
  backoffInitialMs: { read: (o) => o.failureBackoff?.initialMs, name: 'failureBackoff.initialMs', fallback: 200, check: TIMER },
  backoffMaxMs: { read: (o) => o.failureBackoff?.maxMs, name: 'failureBackoff.maxMs', fallback: 30_000, check: TIMER },
  commitIntervalMs: { read: (o) => o.commitIntervalMs, name: 'commitIntervalMs', fallback: 1000, check: TIMER },
  startTimeoutMs: { read: (o) => o.startTimeoutMs, name: 'startTimeoutMs', fallback: 30_000, check: TIMER },
  unknownEventTypes: { read: (o) => o.unknownEventTypes, name: 'unknownEventTypes', fallback: 'skip', check: oneOf('skip', 'fail', 'dead-letter') },
  dedupeBatching: { read: (o) => o.dedupeBatching, name: 'dedupeBatching', fallback: undefined, check: boolean },
};

/** Checks the required options and applies the table; throws `ConsumerConfigError` naming the option. */
export function resolveOptions(options: ConsumerOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw new ConsumerConfigError('options are required');
  if (typeof options.groupId !== 'string' || options.groupId.length === 0) throw new ConsumerConfigError('groupId is required');
  if (!Array.isArray(options.topics) || options.topics.length === 0) throw new ConsumerConfigError('topics must list at least one topic');
  if (!options.codec || typeof options.codec.decode !== 'function') throw new ConsumerConfigError('codec is required (createAvroCodec)');
  if (!options.transport && !options.kafka) throw new ConsumerConfigError('give either transport or kafka (Kafka client options)');
  const clientProblem = kafkaClientProblem(options.client);
  if (clientProblem !== undefined) throw new ConsumerConfigError(clientProblem);
  if (options.failureBackoff !== undefined && (options.failureBackoff === null || typeof options.failureBackoff !== 'object')) {
    throw new ConsumerConfigError('failureBackoff must be an object { initialMs, maxMs }');
  }
  if (options.middleware !== undefined && !Array.isArray(options.middleware)) throw new ConsumerConfigError('middleware must be an array');
  const resolved: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(TUNABLES)) {
    const value = spec.read(options);
    const problem = value === undefined ? undefined : spec.check(value);
    if (problem) throw new ConsumerConfigError(`${spec.name} must be ${problem}, got ${String(value)}`);
    resolved[key] = value ?? spec.fallback;
  }
  const result = resolved as unknown as ResolvedOptions;
  if (result.backoffInitialMs > result.backoffMaxMs) {
    throw new ConsumerConfigError(`failureBackoff.initialMs (${result.backoffInitialMs}) must not exceed failureBackoff.maxMs (${result.backoffMaxMs})`);
  }
  return result;
}
