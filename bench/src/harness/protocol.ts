// What the orchestrator and a worker process say to each other over Node's IPC channel.

export interface Endpoints {
  brokers: string[];
  registryUrl: string;
  postgresUrl: string;
}

export type ProducerVariantId =
  | 'kafkajs-raw'
  | 'kafkajs-encode'
  | 'confluent'
  | 'confluent-linger0'
  | 'evkit-transport'
  | 'evkit-envelope'
  | 'evkit-producer'
  | PlatformaticVariantId<'evkit-producer-platformatic'>;

export type ConsumerVariantId =
  | 'kafkajs-raw'
  | 'kafkajs-decode'
  | 'confluent'
  | 'evkit-subscriber'
  | 'evkit-consumer'
  | 'evkit-dedupe-memory'
  | 'evkit-retry-armed'
  | 'evkit-dedupe-pg'
  | 'evkit-dedupe-pg-retry-armed'
  | PlatformaticVariantId<'evkit-consumer-platformatic'>;

/** The variants on @platformatic/kafka (their worker runs on Node 22): the raw client, the evkit transport on it, full evkit on it. */
export type PlatformaticVariantId<Full extends string = 'evkit-producer-platformatic' | 'evkit-consumer-platformatic'> =
  | 'platformatic-raw'
  | 'evkit-transport-platformatic'
  | Full;

export const PLATFORMATIC_VARIANTS: readonly PlatformaticVariantId[] = ['platformatic-raw', 'evkit-transport-platformatic', 'evkit-producer-platformatic', 'evkit-consumer-platformatic'];

export const isPlatformaticVariant = (variant: string): variant is PlatformaticVariantId => (PLATFORMATIC_VARIANTS as readonly string[]).includes(variant);

/** What a worker process is for; it builds its client from this once, then serves runs. */
export type WorkerSpec =
  | { kind: 'producer'; variant: ProducerVariantId; valueBytes: number; schemaId: number }
  | { kind: 'consumer'; variant: ConsumerVariantId; dedupeTable: string }
  | { kind: 'soak-producer'; valueBytes: number }
  | { kind: 'soak-consumer'; dedupeTable: string }
  | { kind: 'outbox'; outboxTable: string; relay: { kind: 'polling'; intervalMs: number } | { kind: 'debezium' } }
  | { kind: 'micro'; schemaId: number; valueBytes: number }
  /** An order saga's orchestrator and participants; `schema` is the PostgreSQL schema of its tables. */
  | { kind: 'saga'; schema: string; topicPrefix: string };

export interface ProduceRun {
  topic: string;
  records: number;
  /** Await every single-record send (latency) instead of sending batches (throughput). */
  awaitEach: boolean;
  /**
   * With `awaitEach`: this many senders at once, each awaiting its own single-record sends
   * (an HTTP service under load, one publish per request). Default 1.
   */
  concurrency?: number;
}

export interface ConsumeRun {
  topic: string;
  groupId: string;
  expected: number;
}

/** One measured run of a variant. */
export interface Measurement {
  records: number;
  elapsedMs: number;
  /** Records per second. */
  throughput: number;
  p50Ms?: number;
  p99Ms?: number;
}

export interface Request {
  id: number;
  op: 'init' | 'run' | 'profile' | 'stop';
  payload?: unknown;
}

export type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

/** A run under the V8 CPU profiler (what `node --cpu-prof` uses), started and stopped around it. */
export interface ProfileRequest {
  body: unknown;
  /** Where the .cpuprofile goes. */
  file: string;
}

export interface StopReport {
  /** process.resourceUsage().maxRSS, in MB. */
  peakRssMb: number;
}

/** What a worker process serves. */
export interface WorkerHandler {
  run(payload: unknown): Promise<unknown>;
  stop(): Promise<void>;
}

export function measurement(records: number, elapsedMs: number, latencies?: { p50Ms: number; p99Ms: number }): Measurement {
  return { records, elapsedMs, throughput: records / (elapsedMs / 1000), ...latencies };
}
