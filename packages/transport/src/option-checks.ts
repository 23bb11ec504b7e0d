import { TransportConfigError } from './errors';

// The option checks every transport makes at its edge, with the same messages, so that a
// mistake is refused the same way whichever client is underneath.

/** Throws TransportConfigError unless `options` is an object. */
export function checkOptionsObject(options: unknown): void {
  if (options === null || typeof options !== 'object') throw new TransportConfigError('options are required');
}

const BROKER = /^[^\s:]+:\d+$|^\[[^\]]+\]:\d+$/;

/** Throws TransportConfigError unless `brokers` is a non-empty array of `host:port` (or `[ipv6]:port`) strings. */
export function checkBrokers(brokers: unknown): asserts brokers is string[] {
  if (!Array.isArray(brokers) || brokers.length === 0 || brokers.some((b) => typeof b !== 'string' || !BROKER.test(b))) {
    throw new TransportConfigError('brokers must be a non-empty array of host:port strings');
  }
}

/** Throws TransportConfigError unless `value` is undefined or a positive integer. */
export function checkPositiveInteger(name: string, value: unknown): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value < 1)) {
    throw new TransportConfigError(`${name} must be a positive integer, got ${JSON.stringify(value)}`);
  }
}

/** Throws TransportConfigError unless `value` is undefined or a non-negative integer. */
export function checkNonNegativeInteger(name: string, value: unknown): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value < 0)) {
    throw new TransportConfigError(`${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
  }
}
