import { IdempotencyConfigError } from './errors';
import { createMemoryIdempotencyStore, DEFAULT_MEMORY_STORE_MAX_ENTRIES } from './memory-store';
import { describeStoreContract, returns, sleep } from './store-contract.test-support';

describeStoreContract('memory store', {
  create: () => createMemoryIdempotencyStore(),
  // The second run is queued behind the first on the same key; give it time to (wrongly) start.
  waitUntilBlocked: () => sleep(20),
});

describe('memory store', () => {
  it('deletes only rows older than the age, by its clock; an event forgotten so runs again', async () => {
    let now = 1_000;
    const store = createMemoryIdempotencyStore({ now: () => now });
    const work = jest.fn(returns(undefined));
    await store.runOnce('g', 'old', work);
    now = 5_000;
    await store.runOnce('g', 'recent', work);
    now = 10_000;
    expect(store.size()).toBe(2);

    await expect(store.deleteOlderThan(9_000)).resolves.toBe(0); // cutoff 1,000: not older
    await expect(store.deleteOlderThan(8_999)).resolves.toBe(1); // cutoff 1,001
    expect(store.size()).toBe(1);
    await expect(store.runOnce('g', 'recent', work)).resolves.toEqual({ duplicate: true });
    await expect(store.runOnce('g', 'old', work)).resolves.toEqual({ duplicate: false, result: undefined });
    expect(work).toHaveBeenCalledTimes(3);
  });

  it('stamps a row when its work starts, as PostgreSQL stamps it at transaction start', async () => {
    let now = 0;
    const store = createMemoryIdempotencyStore({ now: () => now });
    await store.runOnce('g', 'e', () => {
      now = 1_000;
      return Promise.resolve();
    });
    now = 1_500;
    await expect(store.deleteOlderThan(1_000)).resolves.toBe(1);
  });

  it('keeps keys apart whatever characters they contain', async () => {
    const store = createMemoryIdempotencyStore();
    const work = jest.fn(returns(undefined));
    await store.runOnce('a:b', 'c', work);
    await expect(store.runOnce('a', 'b:c', work)).resolves.toEqual({ duplicate: false, result: undefined });
    expect(store.size()).toBe(2);
  });

  it('holds at most maxEntries rows, forgetting the oldest first', async () => {
    const store = createMemoryIdempotencyStore({ maxEntries: 2 });
    const work = jest.fn(returns(undefined));
    for (const id of ['e1', 'e2', 'e3']) await store.runOnce('g', id, work);
    expect(store.size()).toBe(2);
    await expect(store.runOnce('g', 'e3', work)).resolves.toEqual({ duplicate: true });
    await expect(store.runOnce('g', 'e2', work)).resolves.toEqual({ duplicate: true });
    // e1 was the oldest: forgotten, so it runs again (and e2 is now the oldest, forgotten in turn).
    await expect(store.runOnce('g', 'e1', work)).resolves.toEqual({ duplicate: false, result: undefined });
    expect(store.size()).toBe(2);
    await expect(store.runOnce('g', 'e3', work)).resolves.toEqual({ duplicate: true });
    expect(work).toHaveBeenCalledTimes(4);
  });

  it('bounds its rows by default, and refuses a bound that is not a positive integer', () => {
    expect(DEFAULT_MEMORY_STORE_MAX_ENTRIES).toBe(100_000);
    for (const maxEntries of [0, -1, 1.5, Number.NaN]) {
      expect(() => createMemoryIdempotencyStore({ maxEntries })).toThrow(IdempotencyConfigError);
    }
  });
});
