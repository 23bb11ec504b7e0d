import { parentPort, workerData } from 'node:worker_threads';
import { describeCase, makeCase, runCase } from './cases';
import { buildCorpus } from './corpus';

// Runs cases [from, to) and reports in batches. The main thread watches `progress` (the index in
// hand): a case that blocks the event loop cannot report, so only the main thread can tell.

export interface WorkerInput {
  seed: number;
  from: number;
  to: number;
  /** Indexes that hung or crashed an earlier worker: not run again. */
  skip: number[];
  budgetMs: number;
  /** Int32Array: [0] the index being run, -1 before the first (the corpus is being built). */
  progress: SharedArrayBuffer;
}

export interface Failure {
  index: number;
  target: string;
  kind: 'untyped' | 'slow' | 'hang' | 'crash';
  detail: string;
  input: string;
}

export type WorkerMessage =
  | { type: 'batch'; upTo: number; counts: Record<string, number>; slowest: { index: number; ms: number; input: string } | undefined; failures: Failure[] }
  | { type: 'heap'; growth: number };

const BATCH = 500;
/** A case slower than this runs again and counts its faster time (decodes take microseconds). */
const CONFIRM_MS = 2;

async function main(): Promise<void> {
  const input = workerData as WorkerInput;
  const progress = new Int32Array(input.progress);
  const skip = new Set(input.skip);
  const corpus = await buildCorpus();
  const gc = (globalThis as { gc?: () => void }).gc;
  let heapAtStart: number | undefined;
  let counts: Record<string, number> = {};
  let failures: Failure[] = [];
  let slowest: { index: number; ms: number; input: string } | undefined;
  const post = (message: WorkerMessage) => parentPort!.postMessage(message);
  const flush = (upTo: number) => {
    post({ type: 'batch', upTo, counts, slowest, failures });
    counts = {};
    failures = [];
    slowest = undefined;
  };

  for (let index = input.from; index < input.to; index++) {
    // Warmed up (JIT, resolvers, caches): the baseline heap is taken here.
    if (index === input.from + Math.min(1000, Math.floor((input.to - input.from) / 10)) && gc) {
      gc();
      heapAtStart = process.memoryUsage().heapUsed;
    }
    if (skip.has(index)) continue;
    Atomics.store(progress, 0, index);
    const fuzzCase = makeCase(corpus, input.seed, index);
    let started = performance.now();
    let outcome = await runCase(corpus, fuzzCase);
    let ms = performance.now() - started;
    if (ms > CONFIRM_MS) {
      // Once more, so a GC pause or a first compilation is not taken for a slow input.
      started = performance.now();
      outcome = await runCase(corpus, fuzzCase);
      ms = Math.min(ms, performance.now() - started);
      if (ms > input.budgetMs) failures.push({ index, target: fuzzCase.target, kind: 'slow', detail: `${ms.toFixed(1)} ms`, input: describeCase(fuzzCase) });
    }
    const key = `${fuzzCase.target}\t${outcome.kind === 'typed' ? outcome.code : outcome.kind === 'ok' ? 'decoded' : 'UNTYPED'}`;
    counts[key] = (counts[key] ?? 0) + 1;
    if (outcome.kind === 'untyped') failures.push({ index, target: fuzzCase.target, kind: 'untyped', detail: outcome.message.slice(0, 300), input: describeCase(fuzzCase) });
    if (!slowest || ms > slowest.ms) slowest = { index, ms, input: describeCase(fuzzCase) };
    if ((index - input.from) % BATCH === BATCH - 1) flush(index);
  }
  flush(input.to - 1);
  if (gc && heapAtStart !== undefined) {
    gc();
    post({ type: 'heap', growth: process.memoryUsage().heapUsed - heapAtStart });
  }
}

// A failure outside a case (the corpus, say) rejects unhandled, which ends the worker with an
// 'error' event: the main thread reports it as a crash.
void main();
