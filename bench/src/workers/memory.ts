const MB = 1024 * 1024;

export interface MemorySample {
  events: number;
  rssMb: number;
  heapUsedMb: number;
  externalMb: number;
}

/** Memory after a full GC (the worker runs with --expose-gc). */
export function sampleMemory(events: number): MemorySample {
  (globalThis as { gc?: () => void }).gc?.();
  const usage = process.memoryUsage();
  return { events, rssMb: usage.rss / MB, heapUsedMb: usage.heapUsed / MB, externalMb: (usage.external + usage.arrayBuffers) / MB };
}
