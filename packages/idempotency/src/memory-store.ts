import { untilAborted } from './abandon';
import type { IdempotencyStore, RunOnceResult } from './store';
import { assertKey, assertMaxAge, assertPositiveInteger, assertWork, createInFlight } from './validation';

export interface MemoryIdempotencyStoreOptions {
  /** The clock rows are stamped with and ages are measured by, in epoch milliseconds. Default `Date.now`. */
  now?: () => number;
  /**
   * Rows held at most; past it the oldest rows are forgotten (their events would run again).
   * Default 100,000: a process reading hostile or endless ids must not grow without bound.
   */
  maxEntries?: number;
}

export const DEFAULT_MEMORY_STORE_MAX_ENTRIES = 100_000;

/**
 * An in-process store for tests and single-process tools. It keeps the PostgreSQL store's
 * semantics (at most one run per key, waiting on an in-flight run, no row after a failure), but
 * there is no transaction: whatever the handler changes outside the store is not rolled back.
 */
export interface MemoryIdempotencyStore extends IdempotencyStore<undefined> {
  /** Number of processed-event rows held. */
  size(): number;
}

interface Row {
  processedAt: number;
}

export function createMemoryIdempotencyStore(options: MemoryIdempotencyStoreOptions = {}): MemoryIdempotencyStore {
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? DEFAULT_MEMORY_STORE_MAX_ENTRIES;
  assertPositiveInteger(maxEntries, 'maxEntries');
  const rows = new Map<string, Row>();
  // The last run queued per key: a run waits for its predecessor as PostgreSQL's INSERT waits on
  // the unique index for the transaction that inserted the same key.
  const tails = new Map<string, Promise<void>>();
  const inFlight = createInFlight('the memory idempotency store');

  const runOnce = async <T>(key: string, work: (transaction: undefined) => Promise<T>, signal?: AbortSignal): Promise<RunOnceResult<T>> => {
    const previous = tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => gate);
    tails.set(key, tail);
    await previous;
    try {
      if (rows.has(key)) return { duplicate: true };
      // Stamped before the work, like PostgreSQL's now() at transaction start.
      const processedAt = now();
      let abandoned = false;
      // Abandoned (timed out): the key is released now, and a late success records no row.
      const result = await untilAborted(
        work(undefined).then((value) => {
          if (!abandoned) rows.set(key, { processedAt });
          return value;
        }),
        signal,
        () => (abandoned = true),
      );
      // A Map iterates in insertion order and a key is inserted once: the first is the oldest.
      if (rows.size > maxEntries) rows.delete(rows.keys().next().value!);
      return { duplicate: false, result };
    } finally {
      release();
      if (tails.get(key) === tail) tails.delete(key);
    }
  };

  return {
    async runOnce(consumerGroup, eventId, work, options) {
      assertKey(consumerGroup, eventId);
      assertWork(work);
      // JSON keeps the two parts apart whatever characters they contain.
      return inFlight.run(() => runOnce(JSON.stringify([consumerGroup, eventId]), work, options?.signal));
    },
    async deleteOlderThan(maxAgeMs) {
      assertMaxAge(maxAgeMs);
      return inFlight.run(() => {
        const cutoff = now() - maxAgeMs;
        let deleted = 0;
        for (const [key, row] of rows) {
          if (row.processedAt < cutoff) {
            rows.delete(key);
            deleted += 1;
          }
        }
        return Promise.resolve(deleted);
      });
    },
    size: () => rows.size,
    close: () => inFlight.close(),
  };
}
