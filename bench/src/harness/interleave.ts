import type { Measurement } from './protocol';

/** A contender in a scenario. */
export interface Variant {
  id: string;
  label: string;
  what: string;
  /** One run; run 0 is the warm-up, not reported. */
  run(rep: number): Promise<Measurement>;
  /** Ends the variant; the peak RSS of its process, when it is an evkit-side Node process. */
  finish(): Promise<number | undefined>;
}

export interface VariantResult {
  id: string;
  label: string;
  what: string;
  runs: Measurement[];
  warmup?: Measurement;
  peakRssMb?: number;
  /** Could not run here at all (e.g. a client that did not build); why. */
  unavailable?: string;
  /** Failed while running. */
  error?: string;
}

/** A variant that cannot run here, carried into the results with its reason. */
export function unavailableVariant(id: string, label: string, what: string, reason: string): Variant & { unavailable: string } {
  return {
    id,
    label,
    what,
    unavailable: reason,
    run: () => Promise.reject(new Error(reason)),
    finish: () => Promise.resolve(undefined),
  };
}

/**
 * Runs every variant once to warm up (unless `warmUp` is false), then `repetitions` rounds of one
 * run each, in the same order every round (A B C, A B C...), so that drift on the machine hits
 * every variant alike.
 */
export async function interleave(
  variants: readonly Variant[],
  options: { repetitions: number; warmUp: boolean },
  log: (line: string) => void,
): Promise<VariantResult[]> {
  const { repetitions } = options;
  const results = variants.map((variant): VariantResult => {
    const unavailable = (variant as Partial<{ unavailable: string }>).unavailable;
    return { id: variant.id, label: variant.label, what: variant.what, runs: [], ...(unavailable ? { unavailable } : {}) };
  });
  for (let rep = options.warmUp ? 0 : 1; rep <= repetitions; rep++) {
    for (const [i, variant] of variants.entries()) {
      const result = results[i]!;
      if (result.unavailable || result.error) continue;
      try {
        const m = await variant.run(rep);
        // NaN crosses the worker's IPC as null: a run that measured nothing (no latency) fails here, not in the report.
        const figures = [m.throughput, ...(m.p50Ms === undefined ? [] : [m.p50Ms, m.p99Ms])];
        if (!figures.every((n) => typeof n === 'number' && Number.isFinite(n))) throw new Error(`measured nothing usable: ${JSON.stringify(m)}`);
        log(`  ${rep === 0 ? 'warm-up' : `run ${rep}/${repetitions}`} ${variant.id}: ${describe(m)}`);
        if (rep === 0) result.warmup = m;
        else result.runs.push(m);
      } catch (error) {
        result.error = (error as Error).message;
        log(`  ${variant.id} FAILED: ${result.error}`);
      }
    }
  }
  for (const [i, variant] of variants.entries()) {
    try {
      const peak = await variant.finish();
      if (peak !== undefined) results[i]!.peakRssMb = peak;
    } catch (error) {
      results[i]!.error ??= `stopping: ${(error as Error).message}`;
    }
  }
  return results;
}

function describe(m: Measurement): string {
  const rate = `${Math.round(m.throughput).toLocaleString('en-US')} rec/s (${m.records} in ${Math.round(m.elapsedMs)} ms)`;
  return m.p50Ms === undefined ? rate : `${rate}, p50 ${m.p50Ms.toFixed(2)} ms, p99 ${m.p99Ms!.toFixed(2)} ms`;
}
