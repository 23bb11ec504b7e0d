import type { BatchingIdempotencyStore, IdempotencyBatch, IdempotencyStore } from '@evkit/idempotency';

/** A record of a partition batch and the event id its dedupe will ask for (none: no handler, or not decodable). */
export interface ClaimableRecord {
  offset: string;
  eventId: string | undefined;
}

/**
 * `dedupeBatching`: the records of a partition batch handled since the last commit share one
 * transaction of the store. The first record that reaches dedupe opens it, claiming the event ids
 * of that record and every record after it in one statement; `commit` ends it, and only then are
 * those records done (their Kafka offset may be committed).
 */
export class BatchTransaction {
  private open: Promise<IdempotencyBatch> | undefined;
  private pending: string[] = [];

  constructor(
    private readonly store: BatchingIdempotencyStore,
    private readonly groupId: string,
    private readonly records: readonly ClaimableRecord[],
  ) {}

  /** What the dedupe middleware of the record at `offset` runs on: the open batch. */
  storeFor(offset: string): Pick<IdempotencyStore, 'runOnce'> {
    return {
      runOnce: async (consumerGroup, eventId, work) => (await this.begin(offset)).runOnce(consumerGroup, eventId, work),
    };
  }

  /** The record is handled; it is done once the transaction commits. */
  markHandled(offset: string): void {
    this.pending.push(offset);
  }

  /** Commits the open batch, if any; returns the offsets of the records handled since the last commit. */
  async commit(): Promise<string[]> {
    const handled = this.pending;
    const open = this.open;
    this.pending = [];
    this.open = undefined;
    // A batch that failed to begin failed its record; the records handled before it need no commit.
    const batch = await open?.catch(() => undefined);
    await batch?.commit();
    return handled;
  }

  private begin(offset: string): Promise<IdempotencyBatch> {
    if (!this.open) {
      const from = BigInt(offset);
      const eventIds = this.records.flatMap((r) => (r.eventId !== undefined && BigInt(r.offset) >= from ? [r.eventId] : []));
      this.open = this.store.beginBatch(this.groupId, eventIds);
    }
    return this.open;
  }
}

export function canBatch(store: IdempotencyStore | undefined): store is BatchingIdempotencyStore {
  return typeof (store as Partial<BatchingIdempotencyStore> | undefined)?.beginBatch === 'function';
}
