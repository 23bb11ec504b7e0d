import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type { RecordHeaders } from '@evkit/envelope';

// Bench-only dependencies live in bench/node_modules (installed by `npm run bench`), which the
// repository's type-check runs without. They are loaded here at run time, typed by the small
// parts the benchmarks use, and a variant whose dependency is missing reports why instead of failing.

const load = createRequire(__filename);

export interface ConfluentMessage {
  key: string;
  value: Buffer;
  headers: RecordHeaders;
}

export interface ConfluentProducer {
  connect(): Promise<void>;
  send(record: { topic: string; messages: ConfluentMessage[] }): Promise<unknown>;
  disconnect(): Promise<void>;
}

export interface ConfluentBatchPayload {
  batch: { topic: string; partition: number; messages: { key: Buffer | null; value: Buffer | null; offset: string; headers?: RecordHeaders }[] };
}

export interface ConfluentConsumer {
  connect(): Promise<void>;
  subscribe(subscription: { topics: string[] }): Promise<void>;
  run(config: { eachBatch: (payload: ConfluentBatchPayload) => Promise<void> }): Promise<void>;
  disconnect(): Promise<void>;
}

export interface ConfluentKafka {
  producer(config: Record<string, unknown>): ConfluentProducer;
  consumer(config: Record<string, unknown>): ConfluentConsumer;
}

export interface ConfluentKafkaModule {
  librdkafkaVersion: string;
  KafkaJS: {
    Kafka: new (config: Record<string, unknown>) => ConfluentKafka;
    logLevel: { NOTHING: number; ERROR: number };
  };
}

export interface ConfluentSchemaRegistryClient {
  register(subject: string, schema: { schemaType: 'AVRO'; schema: string }, normalize?: boolean): Promise<number>;
}

export interface ConfluentSerializer {
  serialize(topic: string, message: unknown): Promise<Buffer>;
}

export interface ConfluentDeserializer {
  deserialize(topic: string, payload: Buffer): Promise<unknown>;
}

export interface ConfluentSchemaRegistryModule {
  SchemaRegistryClient: new (config: { baseURLs: string[] }) => ConfluentSchemaRegistryClient;
  AvroSerializer: new (client: ConfluentSchemaRegistryClient, serdeType: 'VALUE', config: Record<string, unknown>) => ConfluentSerializer;
  AvroDeserializer: new (client: ConfluentSchemaRegistryClient, serdeType: 'VALUE', config: Record<string, unknown>) => ConfluentDeserializer;
}

export interface TinybenchStatistics {
  mean: number;
  p50: number;
  p99: number;
  rme: number;
}

export interface TinybenchTask {
  name: string;
  result: { state: string; latency?: TinybenchStatistics; throughput?: TinybenchStatistics; error?: Error };
}

export interface TinybenchModule {
  Bench: new (options: { time?: number; warmupTime?: number; name?: string }) => {
    add(name: string, fn: () => unknown): unknown;
    run(): Promise<TinybenchTask[]>;
  };
}

export type Loaded<T> = { ok: true; module: T; version: string } | { ok: false; reason: string };

/** Reads the package.json where Node would look (some packages do not export it). */
function versionOf(name: string): string {
  for (const dir of load.resolve.paths(name) ?? []) {
    const file = path.join(dir, name, 'package.json');
    if (fs.existsSync(file)) return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
  }
  throw new Error(`${name} is not installed`);
}

function tryLoad<T>(name: string): Loaded<T> {
  try {
    return { ok: true, module: load(name) as T, version: versionOf(name) };
  } catch (error) {
    return { ok: false, reason: `${name} could not be loaded (${(error as Error).message.split('\n')[0]}); see bench/install.log` };
  }
}

export const loadConfluentKafka = (): Loaded<ConfluentKafkaModule> => tryLoad('@confluentinc/kafka-javascript');
export const loadConfluentSchemaRegistry = (): Loaded<ConfluentSchemaRegistryModule> => tryLoad('@confluentinc/schemaregistry');

/** tinybench is ESM only. */
export async function loadTinybench(): Promise<TinybenchModule> {
  const name = 'tinybench';
  return (await import(name)) as TinybenchModule;
}

/** Installed version of a package, as this process resolves it; undefined when missing. */
export function installedVersion(name: string): string | undefined {
  try {
    return versionOf(name);
  } catch {
    return undefined;
  }
}
