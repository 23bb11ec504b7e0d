import type { Variant } from './interleave';
import { unavailableVariant } from './interleave';
import type { Endpoints, Measurement, WorkerSpec } from './protocol';
import { Worker } from './worker';

export interface NodeVariantOptions {
  id: string;
  label: string;
  what: string;
  spec: WorkerSpec;
  endpoints: Endpoints;
  /** The run request for run `rep` (0 = warm-up). */
  payload(rep: number): unknown;
  /** Untimed, before each run (e.g. truncate a table). */
  beforeRun?(rep: number): Promise<void>;
  /** A reason this variant cannot run here; checked before a process is started. */
  unavailable?: string;
  /** Another Node binary for the worker process. */
  execPath?: string;
}

/** A variant served by its own worker process, started now (client connected, fixture built). */
export async function nodeVariant(options: NodeVariantOptions): Promise<Variant> {
  const { id, label, what } = options;
  if (options.unavailable) return unavailableVariant(id, label, what, options.unavailable);
  const worker = await Worker.start(options.spec, options.endpoints, id, options.execPath);
  return {
    id,
    label,
    what,
    async run(rep) {
      await options.beforeRun?.(rep);
      return worker.run<Measurement>(options.payload(rep));
    },
    async finish() {
      return (await worker.stop()).peakRssMb;
    },
  };
}

/** A variant run by a function of the orchestrator (the Java tools: one JVM per run). */
export function functionVariant(id: string, label: string, what: string, run: (rep: number) => Promise<Measurement>): Variant {
  return { id, label, what, run, finish: () => Promise.resolve(undefined) };
}

/** Starts the variants one after another (two cores: parallel start-ups would only fight). */
export async function startAll(factories: readonly (() => Promise<Variant>)[]): Promise<Variant[]> {
  const variants: Variant[] = [];
  for (const factory of factories) variants.push(await factory());
  return variants;
}
