import type { IncomingRecord } from '@evkit/transport';

/**
 * Which records of a batch are done, and so how far the partition may be committed: up to the
 * first record not done. Records of other keys may finish out of order; none past a gap is
 * committed, so a crash redelivers them (and dedupe absorbs the repeat).
 */
export class OffsetTracker {
  private readonly offsets: bigint[];
  private readonly done = new Set<bigint>();
  private firstPending = 0;

  constructor(private readonly records: readonly IncomingRecord[]) {
    this.offsets = records.map((r) => BigInt(r.offset));
  }

  markDone(offset: string): void {
    this.done.add(BigInt(offset));
    while (this.firstPending < this.offsets.length && this.done.has(this.offsets[this.firstPending]!)) this.firstPending += 1;
  }

  /** The offset to commit (next to read), or undefined when nothing new is done. */
  commitOffset(): string | undefined {
    if (this.firstPending === 0) return undefined;
    return (this.offsets[this.firstPending - 1]! + 1n).toString();
  }

  /** The first record not done: where a redelivery must start. */
  firstPendingRecord(): IncomingRecord | undefined {
    return this.records[this.firstPending];
  }

  allDone(): boolean {
    return this.firstPending === this.offsets.length;
  }
}
