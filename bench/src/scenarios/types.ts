import type { JavaTools } from '../clients/java';
import type { BenchResources } from '../harness/admin';
import type { VariantResult } from '../harness/interleave';
import type { ProfileSummary } from '../harness/profile';
import type { Endpoints } from '../harness/protocol';
import type { Settings } from '../settings';

export interface ScenarioContext {
  settings: Settings;
  endpoints: Endpoints;
  resources: BenchResources;
  java: JavaTools;
  /** Registry id of the fixture schema, in every pre-encoded value. */
  schemaId: number;
  /** Why the Confluent client cannot run here, if it cannot. */
  confluentUnavailable: string | undefined;
  runId: string;
  /** Kafka Connect's REST URL (the Debezium outbox relay). */
  connectUrl: string;
  /** PostgreSQL tables of this run; the Debezium relay has its own outbox table. */
  tables: { dedupe: string; outbox: string; outboxCdc: string };
  profileDir: string;
  /** Run only these variant ids (`--variants`); all when undefined. */
  variantFilter: string[] | undefined;
  log: (line: string) => void;
}

/** The variants of `ids` the run selected. */
export function selected<T extends string>(ctx: ScenarioContext, ids: readonly T[]): T[] {
  return ctx.variantFilter ? ids.filter((id) => ctx.variantFilter!.includes(id)) : [...ids];
}

export type ScenarioKind = 'throughput' | 'latency' | 'micro' | 'soak';

export interface MicroTask {
  group: string;
  name: string;
  /** Median over the repetitions of tinybench's mean throughput, operations/s. */
  opsPerSec: { median: number; min: number; max: number };
  /** Median of tinybench's mean latency, µs. */
  meanUs: number;
}

export interface SoakSeries {
  process: 'producer' | 'consumer';
  samples: { events: number; rssMb: number; heapUsedMb: number; externalMb: number }[];
  /** Least-squares growth after warm-up, MB per 100k events. */
  heapSlopeMbPer100k: number;
  rssSlopeMbPer100k: number;
  throughput: number;
  peakRssMb: number;
}

export interface ScenarioResult {
  id: string;
  title: string;
  description: string;
  kind: ScenarioKind;
  /** Variant the ratios are against. */
  baseline?: string;
  variants: VariantResult[];
  notes: string[];
  profiles: import('../harness/profile').ProfileSummary[];
  micro?: MicroTask[];
  soak?: SoakSeries[];
}

export type { ProfileSummary };
