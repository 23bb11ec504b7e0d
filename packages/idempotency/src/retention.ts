import { IdempotencyConfigError } from './errors';
import type { IdempotencyStore } from './store';
import { assertMaxAge, assertPositiveInteger } from './validation';

export interface RetentionOptions {
  store: Pick<IdempotencyStore, 'deleteOlderThan'>;
  /** Rows older than this are deleted. Keep it well above the longest redelivery window (retention of the topic, replays). */
  maxAgeMs: number;
  /** Pause between the end of one run and the start of the next. */
  intervalMs: number;
  /** Every failed run is reported here; retention keeps going. Must not throw. */
  onError: (error: unknown) => void;
  /** Called after each successful run with the number of rows deleted, e.g. for a metric. */
  onRun?: (deleted: number) => void;
}

export interface Retention {
  /** No further runs; resolves once a run in progress has finished. */
  stop(): Promise<void>;
}

// setTimeout clamps longer delays to 1 ms, which would turn retention into a busy loop.
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Deletes old processed-event rows periodically. The first run starts right away, not after an
 * interval: a service redeployed more often than `intervalMs` would otherwise never run one. Runs
 * never overlap, and the timer is unref'd so it does not keep the process alive.
 */
export function startRetention(options: RetentionOptions): Retention {
  if (typeof options !== 'object' || options === null) throw new IdempotencyConfigError('options are required');
  const { store, maxAgeMs, intervalMs, onError, onRun } = options;
  if (typeof store?.deleteOlderThan !== 'function') throw new IdempotencyConfigError('store must be an idempotency store');
  assertMaxAge(maxAgeMs);
  assertPositiveInteger(intervalMs, 'intervalMs', MAX_TIMER_MS);
  if (typeof onError !== 'function') throw new IdempotencyConfigError('onError is required: retention failures must go somewhere');
  if (onRun !== undefined && typeof onRun !== 'function') throw new IdempotencyConfigError('onRun must be a function');

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const report = (error: unknown) => {
    try {
      onError(error);
    } catch (thrown) {
      // The error channel itself failed; swallowing would hide both, so let the process hear it.
      process.nextTick(() => {
        throw thrown;
      });
    }
  };

  const run = async () => {
    try {
      const deleted = await store.deleteOlderThan(maxAgeMs);
      onRun?.(deleted);
    } catch (error) {
      report(error);
    }
  };

  const schedule = (delayMs: number) => {
    timer = setTimeout(() => {
      timer = undefined;
      running = run().then(() => {
        running = undefined;
        if (!stopped) schedule(intervalMs);
      });
    }, delayMs);
    timer.unref();
  };

  schedule(0);
  return {
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      await running;
    },
  };
}
