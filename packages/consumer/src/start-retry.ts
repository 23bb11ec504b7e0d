import { boundedErrorText, isEvkitError } from '@evkit/errors';
import type { Logger } from '@evkit/telemetry';
import { exponentialDelay, sleep } from './backoff';

/**
 * Runs `start` until it succeeds, trying again after a retriable failure (a broker not up yet, a
 * group coordinator still loading, a new topic's metadata not yet everywhere) with back-off, for
 * at most `timeoutMs`. A failure that is not retriable, or one left when the time is up or the
 * consumer stops, is thrown as it came.
 */
export async function retryStart(start: () => Promise<void>, options: { timeoutMs: number; signal: AbortSignal; logger: Logger }): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (let attempt = 1; ; attempt += 1) {
    try {
      await start();
      return;
    } catch (error) {
      const waitMs = exponentialDelay(attempt, 250, 5_000);
      if (!isEvkitError(error) || !error.retriable || Date.now() + waitMs > deadline) throw error;
      options.logger.warn('consumer start failed; trying again', { attempt, waitMs, code: error.code, error: boundedErrorText(error) });
      if (!(await sleep(waitMs, options.signal))) throw error;
    }
  }
}
