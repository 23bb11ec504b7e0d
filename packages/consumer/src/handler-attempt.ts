/**
 * The abort signal of one handler attempt: aborted when the attempt times out or the consumer
 * stops. Its AbortController (and the listener on the stop signal) is made only when the handler
 * reads `context.signal`: most handlers never do, and one per record is measurable.
 */
export class HandlerAttempt {
  private controller: AbortController | undefined;
  private reason: unknown;
  private aborted = false;
  private stop: AbortSignal | undefined;
  private readonly onStop = () => this.abort(this.stop!.reason);

  /** `parent`: the consumer's stop signal, or (for one timed call) a getter of the record's signal, read only when this one is. */
  constructor(private readonly parent: AbortSignal | (() => AbortSignal)) {}

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      const stop = (this.stop = typeof this.parent === 'function' ? this.parent() : this.parent);
      if (this.aborted) this.controller.abort(this.reason);
      else if (stop.aborted) this.abort(stop.reason);
      else stop.addEventListener('abort', this.onStop, { once: true });
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
  }

  /** The attempt is over: stop listening to the consumer's stop signal. */
  done(): void {
    this.stop?.removeEventListener('abort', this.onStop);
  }
}
