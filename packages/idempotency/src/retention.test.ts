import { IdempotencyConfigError } from './errors';
import { startRetention, type RetentionOptions } from './retention';
import { gate, returns } from './store-contract.test-support';

const noError = (error: unknown) => {
  throw new Error(`unexpected retention error: ${String(error)}`);
};

function fakeStore(deleteOlderThan: (maxAgeMs: number) => Promise<number> = returns(0)) {
  return { deleteOlderThan: jest.fn(deleteOlderThan) };
}

/** Moves the fake clock on by `ms`; returns how many deletes the store has seen in all. */
async function deletesAfter(store: ReturnType<typeof fakeStore>, ms: number): Promise<number> {
  await jest.advanceTimersByTimeAsync(ms);
  return store.deleteOlderThan.mock.calls.length;
}

/** A store whose deletes hang until `slow.open()`. */
function slowStore() {
  const slow = gate();
  return { slow, store: fakeStore(() => slow.promise.then(() => 0)) };
}

describe('startRetention', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('runs right away, then intervalMs after each run ends, with the configured age', async () => {
    const store = fakeStore(returns(3));
    const onRun = jest.fn();
    const retention = startRetention({ store, maxAgeMs: 7_000, intervalMs: 1_000, onError: noError, onRun });
    expect(await deletesAfter(store, 0)).toBe(1);
    expect(store.deleteOlderThan).toHaveBeenCalledWith(7_000);
    expect(onRun).toHaveBeenCalledWith(3);
    expect(await deletesAfter(store, 999)).toBe(1);
    expect(await deletesAfter(store, 1)).toBe(2);
    expect(await deletesAfter(store, 3_000)).toBe(5);
    await retention.stop();
  });

  it('never overlaps runs: the next waits until the slow one has finished', async () => {
    const { slow, store } = slowStore();
    const retention = startRetention({ store, maxAgeMs: 1, intervalMs: 100, onError: noError });
    expect(await deletesAfter(store, 10_000)).toBe(1);
    slow.open();
    expect(await deletesAfter(store, 99)).toBe(1);
    expect(await deletesAfter(store, 1)).toBe(2);
    await retention.stop();
  });

  it('reports every failed run to onError and keeps running', async () => {
    const failure = new Error('database down');
    const store = fakeStore(() => Promise.reject(failure));
    const onError = jest.fn();
    const retention = startRetention({ store, maxAgeMs: 1, intervalMs: 100, onError });
    await jest.advanceTimersByTimeAsync(250);
    expect(onError.mock.calls).toEqual([[failure], [failure], [failure]]);
    await retention.stop();
  });

  it('reports a throwing onRun as an error too', async () => {
    const failure = new Error('metric sink broken');
    const onError = jest.fn();
    const retention = startRetention({
      store: fakeStore(),
      maxAgeMs: 1,
      intervalMs: 100,
      onError,
      onRun: () => {
        throw failure;
      },
    });
    await jest.advanceTimersByTimeAsync(0);
    expect(onError).toHaveBeenCalledWith(failure);
    await retention.stop();
  });

  it('stop waits for the run in progress and prevents any further run', async () => {
    const { slow, store } = slowStore();
    const retention = startRetention({ store, maxAgeMs: 1, intervalMs: 100, onError: noError });
    await jest.advanceTimersByTimeAsync(0);
    let stopped = false;
    const stopping = retention.stop().then(() => (stopped = true));
    await jest.advanceTimersByTimeAsync(50);
    expect(stopped).toBe(false);
    slow.open();
    await stopping;
    expect(stopped).toBe(true);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(store.deleteOlderThan).toHaveBeenCalledTimes(1);
    await expect(retention.stop()).resolves.toBeUndefined();
  });

  it('stop before the first run means no run at all', async () => {
    const store = fakeStore();
    await startRetention({ store, maxAgeMs: 1, intervalMs: 100, onError: noError }).stop();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(store.deleteOlderThan).not.toHaveBeenCalled();
  });

  it('refuses unusable options at the edge', () => {
    const valid: RetentionOptions = { store: fakeStore(), maxAgeMs: 1, intervalMs: 100, onError: noError };
    const invalid: Array<[string, Partial<RetentionOptions>]> = [
      ['onError', { onError: undefined }],
      ['intervalMs', { intervalMs: 0 }],
      // setTimeout would clamp it to 1 ms: a busy loop.
      ['intervalMs', { intervalMs: 2 ** 31 }],
      ['maxAgeMs', { maxAgeMs: -1 }],
      ['maxAgeMs', { maxAgeMs: Number.NaN }],
      ['store', { store: {} as never }],
    ];
    for (const [option, change] of invalid) {
      expect(() => startRetention({ ...valid, ...change })).toThrow(IdempotencyConfigError);
      expect(() => startRetention({ ...valid, ...change })).toThrow(option);
    }
  });
});

describe('startRetention timer', () => {
  it('does not keep the process alive', async () => {
    const setTimeoutSpy = jest.spyOn(global, 'setTimeout');
    const retention = startRetention({ store: fakeStore(), maxAgeMs: 1, intervalMs: 60_000, onError: noError });
    const timer: unknown = setTimeoutSpy.mock.results[0]!.value;
    expect((timer as NodeJS.Timeout).hasRef()).toBe(false);
    setTimeoutSpy.mockRestore();
    await retention.stop();
  });
});
