import { exponentialDelay, jittered, MAX_TIMER_MS, sleep } from './backoff';

describe('back-off helpers', () => {
  it('sleeps the time given, or less when the signal aborts, and says which', async () => {
    const started = Date.now();
    expect(await sleep(20)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
    const stop = new AbortController();
    const cut = sleep(60_000, stop.signal);
    stop.abort(new Error('stopping'));
    expect(await cut).toBe(false);
    expect(await sleep(60_000, stop.signal)).toBe(false);
  });

  it('doubles from the initial delay up to the cap', () => {
    expect([1, 2, 3, 4, 10].map((attempt) => exponentialDelay(attempt, 100, 500))).toEqual([100, 200, 400, 500, 500]);
  });

  it('spreads a delay by the jitter and keeps it a valid timer', () => {
    expect(jittered(1000, 0.2, () => 0)).toBe(800);
    expect(jittered(1000, 0.2, () => 1)).toBe(1200);
    expect(jittered(MAX_TIMER_MS, 0.5, () => 1)).toBe(MAX_TIMER_MS);
  });
});
