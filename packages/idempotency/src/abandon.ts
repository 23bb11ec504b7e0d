/** Options of one `runOnce` call. */
export interface RunOnceOptions {
  /**
   * Aborted when the caller gives up on the attempt (a handler timeout, the consumer stopping).
   * The call then rejects at once with the signal's reason and its transaction ends (rolled back):
   * nothing the work does afterwards commits, and the key is free for the next attempt.
   */
  signal?: AbortSignal;
}

/**
 * Settles as `work` does, or rejects with `signal`'s reason once it aborts, calling `onAbandon`
 * first. The work may still be running then: its late outcome belongs to no one (the caller has
 * moved on and was told why), so it is observed here only to keep it from being unhandled.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined, onAbandon: () => void): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const abandon = () => {
      work.catch(() => undefined); // see above: the late outcome of an abandoned work has no reader
      onAbandon();
      reject(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
    };
    if (signal.aborted) return abandon();
    signal.addEventListener('abort', abandon, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', abandon);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', abandon);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
