import type { Pool } from 'pg';
import { OutboxConfigError } from './errors';

// setTimeout turns longer delays into 1 ms.
export const MAX_TIMER_MS = 2_147_483_647;

export function requireOptions(options: unknown): void {
  if (options === null || typeof options !== 'object') throw new OutboxConfigError('options are required');
}

export function requirePool(pool: unknown): asserts pool is Pool {
  if (!pool || typeof (pool as Pool).connect !== 'function' || typeof (pool as Pool).query !== 'function') {
    throw new OutboxConfigError('pool must be a pg Pool');
  }
}

export function requireInteger(value: unknown, name: string, max = MAX_TIMER_MS): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new OutboxConfigError(`${name} must be an integer from 1 to ${max}, got ${String(value)}`);
  }
}

export function requireFunction(value: unknown, name: string, why: string): void {
  if (typeof value !== 'function') throw new OutboxConfigError(`${name} is required: ${why}`);
}
