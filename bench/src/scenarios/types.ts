import type { JavaTools } from '../clients/java';
import type { BenchResources } from '../harness/admin';
import type { VariantResult } from '../harness/interleave';
import { profileVariants, type ProfileSummary } from '../harness/profile';
import type { Node22 } from '../harness/node22';
import { isPlatformaticVariant, type Endpoints, type WorkerSpec } from '../harness/protocol';
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
  /** The Node the @platformatic/kafka variants run on, or why there is none. */
  node22: Node22;
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

/** Where a Node variant's worker runs: why it cannot run here, or on which Node binary when not this one. */
export function workerRuntime(ctx: ScenarioContext, variant: string): { unavailable?: string; execPath?: string } {
  if (variant.startsWith('confluent') && ctx.confluentUnavailable) return { unavailable: ctx.confluentUnavailable };
  if (!isPlatformaticVariant(variant)) return {};
  return 'unavailable' in ctx.node22 ? { unavailable: ctx.node22.unavailable } : { execPath: ctx.node22.execPath };
}

/** The variants of `ids` to CPU-profile: in runs with profiles, those the run selected and can run here. */
export function profilable<T extends string>(ctx: ScenarioContext, ids: readonly T[]): T[] {
  return ctx.settings.profile ? selected(ctx, ids).filter((variant) => !workerRuntime(ctx, variant).unavailable) : [];
}

/** Profiles `variants` (see profilable), each in a fresh worker on its own Node. */
export function profileScenarioVariants<V extends string>(
  ctx: ScenarioContext,
  variants: readonly V[],
  options: { scenario: string; specOf: (variant: V) => WorkerSpec; payload: (variant: V, rep: string) => unknown; beforeRun?: () => Promise<void> },
): Promise<ProfileSummary[]> {
  return profileVariants(variants, {
    ...options,
    execPathOf: (variant) => workerRuntime(ctx, variant).execPath,
    endpoints: ctx.endpoints,
    dir: ctx.profileDir,
    log: ctx.log,
  });
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
  /** Latency scenarios on a fixed schedule: the rate offered, events/s. */
  offeredRate?: number;
}

export type { ProfileSummary };
