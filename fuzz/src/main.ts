import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { describeCase, makeCase, TARGETS } from './cases';
import { buildCorpus } from './corpus';
import { report, type Figures } from './report';
import type { Failure, WorkerInput, WorkerMessage } from './worker';

// `npm run fuzz [-- options]`: the consumer's decode path under mutated records (fuzz/README.md).
// Cases run in a worker thread; this thread is the watchdog. A case that blocks the worker's
// event loop longer than --hang-ms is a hang: the worker is terminated and a new one resumes
// after it. A worker that dies (heap exhausted: its heap is capped) is a crash, likewise.

interface Options {
  cases: number;
  seed: number;
  budgetMs: number;
  hangMs: number;
  heapLimitMb: number;
  out: string;
}

const root = path.resolve(__dirname, '..', '..');

function parseArgs(argv: string[]): Options {
  const quick = argv.includes('--quick');
  const value = (name: string, fallback: number) => {
    const i = argv.indexOf(name);
    if (i < 0) return fallback;
    const n = Number(argv[i + 1]);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${name} needs a non-negative integer, got ${argv[i + 1]}`);
    return n;
  };
  const outAt = argv.indexOf('--out');
  return {
    cases: value('--cases', quick ? 50_000 : 200_000),
    seed: value('--seed', 1),
    budgetMs: value('--budget-ms', 50),
    hangMs: value('--hang-ms', 1000),
    heapLimitMb: value('--heap-growth-mb', 32),
    // A quick run is a check, not figures to keep: it writes under the git-ignored dist/.
    out: outAt >= 0 ? argv[outAt + 1]! : path.join(root, 'fuzz', quick ? 'dist/results-quick.json' : 'results.json'),
  };
}

interface Segment {
  /** Resume index: after the last batch reported. */
  next: number;
  heapGrowth: number | undefined;
  ended: 'done' | 'hang' | 'crash';
  at: number;
  detail: string;
}

/** Runs one worker from `from` until it finishes, hangs or dies. */
function runSegment(options: Options, from: number, skip: number[], figures: Figures): Promise<Segment> {
  const progress = new SharedArrayBuffer(4);
  const current = new Int32Array(progress);
  Atomics.store(current, 0, -1);
  const input: WorkerInput = { seed: options.seed, from, to: options.cases, skip, budgetMs: options.budgetMs, progress };
  const worker = new Worker(path.join(__dirname, 'worker.js'), { workerData: input, resourceLimits: { maxOldGenerationSizeMb: 256 } });
  return new Promise((resolve) => {
    const segment: Segment = { next: from, heapGrowth: undefined, ended: 'done', at: -1, detail: '' };
    let seen = -1;
    let since = Date.now();
    const watchdog = setInterval(() => {
      const index = Atomics.load(current, 0);
      // Worker start-up (loading, the corpus) is not a case: the clock starts at the first one.
      if (index < 0 || index !== seen) {
        seen = index;
        since = Date.now();
      } else if (Date.now() - since > options.hangMs && segment.ended === 'done') {
        Object.assign(segment, { ended: 'hang', at: index, detail: `no answer within ${options.hangMs} ms` });
        void worker.terminate();
      }
    }, 20);
    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'heap') {
        segment.heapGrowth = message.growth;
        return;
      }
      segment.next = message.upTo + 1;
      for (const [key, n] of Object.entries(message.counts)) figures.counts[key] = (figures.counts[key] ?? 0) + n;
      figures.failures.push(...message.failures);
      if (message.slowest && (!figures.slowest || message.slowest.ms > figures.slowest.ms)) figures.slowest = message.slowest;
    });
    worker.on('error', (error) => {
      if (segment.ended === 'done') Object.assign(segment, { ended: 'crash', at: Atomics.load(current, 0), detail: `${error.name}: ${error.message}` });
    });
    worker.on('exit', (code) => {
      clearInterval(watchdog);
      if (code !== 0 && segment.ended === 'done') Object.assign(segment, { ended: 'crash', at: Atomics.load(current, 0), detail: `worker exit code ${code}` });
      resolve(segment);
    });
  });
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const corpus = await buildCorpus();
  const started = Date.now();
  const rssBefore = process.memoryUsage().rss;
  const figures: Figures = { counts: {}, failures: [], slowest: undefined, heapGrowthMax: undefined };
  const skip: number[] = [];
  let from = 0;
  console.log(`fuzz: ${options.cases} inputs, seed ${options.seed}, ${corpus.seeds.length} seed records; budget ${options.budgetMs} ms an input, hang after ${options.hangMs} ms`);
  while (from < options.cases) {
    const segment = await runSegment(options, from, skip, figures);
    if (segment.heapGrowth !== undefined) figures.heapGrowthMax = Math.max(figures.heapGrowthMax ?? 0, segment.heapGrowth);
    if (segment.ended === 'done') break;
    if (segment.at < 0) throw new Error(`fuzz: a worker failed before its first case: ${segment.detail}`);
    if (segment.at < segment.next) {
      // It finished (its batch came in) just as the watchdog gave up on it: no failure.
      from = segment.next;
      continue;
    }
    // The input is a function of (seed, index): rebuilt here to report it.
    const fuzzCase = makeCase(corpus, options.seed, segment.at);
    const failure: Failure = { index: segment.at, target: fuzzCase.target, kind: segment.ended, detail: segment.detail, input: describeCase(fuzzCase) };
    figures.failures.push(failure);
    figures.counts[`${fuzzCase.target}\t${segment.ended.toUpperCase()}`] = (figures.counts[`${fuzzCase.target}\t${segment.ended.toUpperCase()}`] ?? 0) + 1;
    console.log(`fuzz: ${segment.ended} at input ${failure.input.slice(0, 160)}`);
    skip.push(segment.at);
    // Cases after the last batch reported run again (same results): only the culprit is skipped.
    from = segment.next;
  }
  const summary = report(figures, {
    ...options,
    seconds: (Date.now() - started) / 1000,
    rssGrowth: process.memoryUsage().rss - rssBefore,
    targets: TARGETS,
  });
  fs.mkdirSync(path.dirname(options.out), { recursive: true });
  fs.writeFileSync(options.out, `${JSON.stringify(summary, null, 2)}\n`);
  console.log(`fuzz: figures written to ${path.relative(process.cwd(), options.out)}`);
  if (!summary.passed) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
