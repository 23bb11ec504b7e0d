import { IdempotencyConfigError, IdempotencyStoreClosedError } from './errors';

/** Both parts of the key are stored as text: empty strings would collide, NUL is not storable in PostgreSQL. */
export function assertKey(consumerGroup: unknown, eventId: unknown): void {
  assertKeyPart('consumerGroup', consumerGroup);
  assertKeyPart('eventId', eventId);
}

export function assertKeyPart(name: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new IdempotencyConfigError(`${name} must be a non-empty string`);
  }
  if (value.includes('\u0000')) throw new IdempotencyConfigError(`${name} must not contain a NUL character`);
}

export function assertWork(work: unknown): void {
  if (typeof work !== 'function') throw new IdempotencyConfigError('work must be a function');
}

/** A negative age would reach into the future and delete rows of events still being redelivered. */
export function assertMaxAge(maxAgeMs: unknown, name = 'maxAgeMs'): asserts maxAgeMs is number {
  if (typeof maxAgeMs !== 'number' || !Number.isFinite(maxAgeMs) || maxAgeMs < 0) {
    throw new IdempotencyConfigError(`${name} must be a finite number of milliseconds >= 0, got ${String(maxAgeMs)}`);
  }
}

export function assertPositiveInteger(value: unknown, name: string, max = Number.MAX_SAFE_INTEGER): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new IdempotencyConfigError(`${name} must be an integer from 1 to ${max}, got ${String(value)}`);
  }
}

/** Tracks calls in flight so that close() can wait for them, and refuses new ones once closing. */
export interface InFlight {
  run<T>(call: () => Promise<T>): Promise<T>;
  /** Counts work that outlives a call (an open batch) until the returned function is called; throws once closing. */
  hold(): () => void;
  /** Refuses new calls from now on; resolves when the ones in flight have settled. */
  close(): Promise<void>;
}

export function createInFlight(storeName: string): InFlight {
  const calls = new Set<Promise<unknown>>();
  let closed = false;
  return {
    run(call) {
      if (closed) return Promise.reject(new IdempotencyStoreClosedError(`${storeName} is closed`));
      const promise = call();
      calls.add(promise);
      const forget = () => calls.delete(promise);
      promise.then(forget, forget);
      return promise;
    },
    hold() {
      if (closed) throw new IdempotencyStoreClosedError(`${storeName} is closed`);
      let end!: () => void;
      const held = new Promise<void>((resolve) => (end = resolve));
      calls.add(held);
      return () => {
        calls.delete(held);
        end();
      };
    },
    async close() {
      closed = true;
      // Their outcomes belong to their callers; close() only waits.
      await Promise.allSettled([...calls]);
    },
  };
}
