import { randomUUID } from 'node:crypto';
import { IdempotencyConfigError, IdempotencyStoreClosedError } from './errors';
import type { IdempotencyStore } from './store';

/**
 * The semantics every IdempotencyStore must keep, run against the memory store (unit) and the
 * PostgreSQL store (integration): the memory store is only a faithful stand-in if both pass.
 */
export interface StoreContractHarness {
  /** A store on shared storage; the contract closes it. Tests keep apart by unique consumer groups. */
  create(): IdempotencyStore;
  /** Resolves once a runOnce for `consumerGroup` is waiting for an in-flight run of the same event. */
  waitUntilBlocked(consumerGroup: string): Promise<void>;
}

/** The error `promise` rejects with; fails the test when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected a rejection, but the promise resolved');
}

/** A work function that does nothing but return `value`. */
export const returns = <T>(value: T) => () => Promise.resolve(value);

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A promise with its resolve function, to hold work at a known point. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

export function describeStoreContract(name: string, harness: StoreContractHarness): void {
  describe(`${name}: the IdempotencyStore contract`, () => {
    let store: IdempotencyStore;
    beforeAll(() => {
      store = harness.create();
    });
    afterAll(() => store.close());
    const group = () => `group-${randomUUID()}`;

    it('runs the work once, and reports later calls as duplicates without running it', async () => {
      const g = group();
      const work = jest.fn(returns('done'));
      await expect(store.runOnce(g, 'e-1', work)).resolves.toEqual({ duplicate: false, result: 'done' });
      await expect(store.runOnce(g, 'e-1', work)).resolves.toEqual({ duplicate: true });
      await expect(store.runOnce(g, 'e-1', work)).resolves.toEqual({ duplicate: true });
      expect(work).toHaveBeenCalledTimes(1);
    });

    it('keeps consumer groups and event ids apart', async () => {
      const [a, b] = [group(), group()];
      const work = jest.fn(returns(undefined));
      await store.runOnce(a, 'e-1', work);
      await expect(store.runOnce(b, 'e-1', work)).resolves.toEqual({ duplicate: false, result: undefined });
      await expect(store.runOnce(a, 'e-2', work)).resolves.toEqual({ duplicate: false, result: undefined });
      expect(work).toHaveBeenCalledTimes(3);
    });

    it("rethrows the handler's own error unchanged, keeps no row, and runs the redelivery", async () => {
      const g = group();
      const failure = new Error('handler failed');
      await expect(store.runOnce(g, 'e-1', () => Promise.reject(failure))).rejects.toBe(failure);
      const retry = jest.fn(returns('second time'));
      await expect(store.runOnce(g, 'e-1', retry)).resolves.toEqual({ duplicate: false, result: 'second time' });
      expect(retry).toHaveBeenCalledTimes(1);
    });

    it('runs the work exactly once for 20 concurrent calls of one event; the others wait for it', async () => {
      const g = group();
      let runs = 0;
      let finishedAt = 0;
      const slowWork = async () => {
        runs += 1;
        await sleep(300);
        finishedAt = performance.now();
        return runs;
      };
      const settledAt: number[] = [];
      const results = await Promise.all(
        Array.from({ length: 20 }, () =>
          store.runOnce(g, 'e-1', slowWork).then((result) => {
            settledAt.push(performance.now());
            return result;
          }),
        ),
      );
      expect(runs).toBe(1);
      expect(results.filter((r) => !r.duplicate)).toEqual([{ duplicate: false, result: 1 }]);
      expect(results.filter((r) => r.duplicate)).toHaveLength(19);
      // Nobody was told "duplicate" before the one run had finished its work.
      expect(Math.min(...settledAt)).toBeGreaterThanOrEqual(finishedAt);
    });

    it('lets a waiting call run when the in-flight one fails', async () => {
      const g = group();
      const [started, hold] = [gate(), gate()];
      const failure = new Error('first attempt failed');
      const first = store.runOnce(g, 'e-1', async () => {
        started.open();
        await hold.promise;
        throw failure;
      });
      // Only now does the first hold the key; started together, either could win it.
      await started.promise;
      const second = jest.fn(returns('second ran'));
      const secondCall = store.runOnce(g, 'e-1', second);
      await harness.waitUntilBlocked(g);
      expect(second).not.toHaveBeenCalled();
      hold.open();
      await expect(first).rejects.toBe(failure);
      await expect(secondCall).resolves.toEqual({ duplicate: false, result: 'second ran' });
      expect(second).toHaveBeenCalledTimes(1);
    });

    it('does not make different events wait for each other', async () => {
      const g = group();
      const [aStarted, bStarted] = [gate(), gate()];
      // Each work waits for the other to start: run one after the other, they would never finish.
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('serialised'), 5_000)));
      const both = Promise.all([
        store.runOnce(g, 'e-a', async () => {
          aStarted.open();
          await bStarted.promise;
        }),
        store.runOnce(g, 'e-b', async () => {
          bStarted.open();
          await aStarted.promise;
        }),
      ]).then(() => 'concurrent');
      await expect(Promise.race([both, deadline])).resolves.toBe('concurrent');
      clearTimeout(timer);
    });

    it('keeps recent rows on deleteOlderThan and refuses a negative age', async () => {
      const g = group();
      await store.runOnce(g, 'e-1', returns(undefined));
      await store.deleteOlderThan(60 * 60 * 1000);
      await expect(store.runOnce(g, 'e-1', returns(undefined))).resolves.toEqual({ duplicate: true });
      await expect(store.deleteOlderThan(-1)).rejects.toBeInstanceOf(IdempotencyConfigError);
    });

    it('refuses empty ids and a missing work function', async () => {
      const work = returns(undefined);
      await expect(store.runOnce('', 'e-1', work)).rejects.toBeInstanceOf(IdempotencyConfigError);
      await expect(store.runOnce(group(), '', work)).rejects.toBeInstanceOf(IdempotencyConfigError);
      await expect(store.runOnce(group(), 'e\u0000', work)).rejects.toBeInstanceOf(IdempotencyConfigError);
      await expect(store.runOnce(group(), 'e-1', undefined as never)).rejects.toBeInstanceOf(IdempotencyConfigError);
    });

    it('waits on close for the work in flight, then refuses new calls', async () => {
      const own = harness.create();
      const steps: string[] = [];
      const inFlight = own.runOnce(group(), 'e-1', async () => {
        await sleep(100);
        steps.push('work done');
      });
      await sleep(10);
      await own.close();
      steps.push('closed');
      expect(steps).toEqual(['work done', 'closed']);
      await expect(inFlight).resolves.toEqual({ duplicate: false, result: undefined });
      await expect(own.runOnce(group(), 'e-2', returns(undefined))).rejects.toBeInstanceOf(IdempotencyStoreClosedError);
      await expect(own.deleteOlderThan(1)).rejects.toBeInstanceOf(IdempotencyStoreClosedError);
      await expect(own.close()).resolves.toBeUndefined();
    });
  });
}
