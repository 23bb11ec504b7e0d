import { setTimeout as delay } from 'node:timers/promises';

/** Node's longest timer, 2^31-1 ms (24.8 days): a longer one fires at once (a pause/resume busy loop). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Waits `ms` (capped at Node's longest timer), or less when `signal` aborts meanwhile. Resolves
 * true when the wait ran out, false when it was cut short: a stopping consumer must not wait out
 * a back-off, and the caller decides what a cut-short wait means. The one sleep of evkit.
 */
export async function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return false;
  try {
    await delay(Math.min(Math.max(0, ms), MAX_TIMER_MS), undefined, signal ? { signal } : undefined);
    return true;
  } catch (error) {
    if (signal?.aborted) return false; // the abort this function exists to honour
    throw error;
  }
}

/** The delay before attempt `attempt` (1-based) of an exponential back-off: `initialMs` doubling up to `maxMs`. */
export function exponentialDelay(attempt: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt - 1));
}

/** `ms` spread by ±`jitter` (a fraction in [0, 1)), kept a valid timer. */
export function jittered(ms: number, jitter: number, random: () => number = Math.random): number {
  return Math.min(MAX_TIMER_MS, Math.round(ms * (1 + jitter * (2 * random() - 1))));
}
