import { performance } from 'node:perf_hooks';

/**
 * Counts handled records; the clock starts at the first one (group joins and the first fetch are
 * left out, as ConsumerPerformance's fetch rate leaves them out) and stops at the expected count.
 */
export class Progress {
  private handled = 0;
  private firstAt: number | undefined;
  private finish!: (value: { records: number; elapsedMs: number }) => void;
  readonly done: Promise<{ records: number; elapsedMs: number }>;

  constructor(private readonly expected: number) {
    this.done = new Promise((resolve) => (this.finish = resolve));
  }

  add(count = 1): void {
    const now = performance.now();
    this.firstAt ??= now;
    const before = this.handled;
    this.handled += count;
    if (before < this.expected && this.handled >= this.expected) this.finish({ records: this.handled, elapsedMs: now - this.firstAt });
  }

  /** A no-op event (or record) handler that counts. */
  readonly handler = (_event?: unknown): Promise<void> => {
    this.add();
    return Promise.resolve();
  };

  get count(): number {
    return this.handled;
  }
}
