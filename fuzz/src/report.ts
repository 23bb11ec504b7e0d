import type { Failure } from './worker';

// The figures of a run, printed and written as JSON: inputs tried, outcomes by code (and by
// target), the slowest input, every failure with its input, and the memory growth.

export interface Figures {
  /** By `target\tcode`: `decoded`, an EvkitError code, `UNTYPED`, `HANG` or `CRASH`. */
  counts: Record<string, number>;
  failures: Failure[];
  slowest: { index: number; ms: number; input: string } | undefined;
  /** Largest heap growth of a worker after GC, bytes; undefined without --expose-gc. */
  heapGrowthMax: number | undefined;
}

interface RunInfo {
  cases: number;
  seed: number;
  budgetMs: number;
  hangMs: number;
  heapLimitMb: number;
  seconds: number;
  rssGrowth: number;
  targets: readonly string[];
}

const MB = 1024 * 1024;

export function report(figures: Figures, run: RunInfo) {
  const byCode: Record<string, number> = {};
  const byTarget: Record<string, Record<string, number>> = {};
  let tried = 0;
  for (const [key, n] of Object.entries(figures.counts)) {
    const [target, code] = key.split('\t') as [string, string];
    byCode[code] = (byCode[code] ?? 0) + n;
    (byTarget[target] ??= {})[code] = n;
    tried += n;
  }
  const count = (kind: Failure['kind']) => figures.failures.filter((f) => f.kind === kind).length;
  const heapGrowthMb = figures.heapGrowthMax === undefined ? undefined : figures.heapGrowthMax / MB;
  const summary = {
    seed: run.seed,
    inputsTried: tried,
    seconds: Number(run.seconds.toFixed(1)),
    budgetMs: run.budgetMs,
    hangs: count('hang'),
    crashes: count('crash'),
    untyped: count('untyped'),
    slow: count('slow'),
    outcomesByCode: Object.fromEntries(Object.entries(byCode).sort(([, a], [, b]) => b - a)),
    outcomesByTarget: Object.fromEntries(run.targets.map((t) => [t, byTarget[t] ?? {}])),
    slowest: figures.slowest && { index: figures.slowest.index, ms: Number(figures.slowest.ms.toFixed(2)), input: figures.slowest.input },
    heapGrowthMb: heapGrowthMb === undefined ? 'not measured (run with --expose-gc)' : Number(heapGrowthMb.toFixed(2)),
    rssGrowthMb: Number((run.rssGrowth / MB).toFixed(1)),
    failures: figures.failures.slice(0, 50),
    passed: false,
  };
  summary.passed = figures.failures.length === 0 && (heapGrowthMb ?? 0) <= run.heapLimitMb && tried === run.cases;

  console.log(`\nfuzz: ${tried} inputs in ${summary.seconds} s`);
  console.log('outcomes by code:');
  for (const [code, n] of Object.entries(summary.outcomesByCode)) console.log(`  ${String(n).padStart(8)}  ${code}`);
  console.log(`slowest input: ${summary.slowest ? `${summary.slowest.ms} ms, ${summary.slowest.input.slice(0, 200)}` : 'none'}`);
  console.log(`hangs ${summary.hangs}, crashes ${summary.crashes}, untyped ${summary.untyped}, slower than ${run.budgetMs} ms ${summary.slow}`);
  console.log(`heap growth ${typeof summary.heapGrowthMb === 'number' ? `${summary.heapGrowthMb} MB (limit ${run.heapLimitMb})` : summary.heapGrowthMb}, RSS growth ${summary.rssGrowthMb} MB`);
  for (const failure of figures.failures.slice(0, 10)) console.log(`  FAIL ${failure.kind} (${failure.detail}): ${failure.input.slice(0, 300)}`);
  console.log(summary.passed ? 'fuzz: PASS' : 'fuzz: FAIL');
  return summary;
}
