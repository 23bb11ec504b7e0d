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
  private batch: IdempotencyBatch | undefined; // the open one, once begun
  private last: Promise<unknown> = Promise.resolve(); // the latest record's call, settled or not
  private pending: string[] = [];
  private readonly claimable: Set<string>; // offsets of the records dedupe will ask for

  constructor(
    private readonly store: BatchingIdempotencyStore,
    private readonly groupId: string,
    private readonly records: readonly ClaimableRecord[],
  ) {
    this.claimable = new Set(records.flatMap((r) => (r.eventId === undefined ? [] : [r.offset])));
  }

  /**
   * Opens the batch for the record at `offset` if it will need it and none is open; resolves
   * with the error when that fails (a lost connection, a claim that waited past its lock
   * timeout). Called before the record's middleware: the record is not at fault, so the failure
   * is the batch's (redelivered after the back-off), never routed as the record's own.
   */
  async ready(offset: string): Promise<Error | undefined> {
    if (!this.claimable.has(offset)) return undefined;
    try {
      await this.begin(offset);
      return undefined;
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  }

  /**
   * What the dedupe middleware of the record at `offset` runs on: the open batch. The attempt's
   * signal goes with it: a timed-out handler's work is abandoned (rolled back to its savepoint)
   * and the records after it go on in the same transaction.
   */
  storeFor(offset: string): Pick<IdempotencyStore, 'runOnce'> {
    return {
      runOnce: (consumerGroup, eventId, work, options) => {
        const call = this.begin(offset).then((batch) => batch.runOnce(consumerGroup, eventId, work, options));
        this.last = call.catch(() => undefined); // its caller (dedupe) gets the outcome; this only waits for it
        return call;
      },
    };
  }

  /**
   * Why the open batch can take no more records (its commit will fail), if it cannot. Waits for
   * the previous record's call first: a timed-out one may still be ending its work (bounded by
   * the store), and it decides whether the batch survived.
   */
  async failure(): Promise<Error | undefined> {
    await this.last;
    return this.batch?.failure?.();
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
    this.batch = undefined;
    // A batch that failed to begin failed its record; the records handled before it need no commit.
    const batch = await open?.catch(() => undefined);
    await batch?.commit();
    return handled;
  }

  private begin(offset: string): Promise<IdempotencyBatch> {
    if (!this.open) {
      const from = BigInt(offset);
      const eventIds = this.records.flatMap((r) => (r.eventId !== undefined && BigInt(r.offset) >= from ? [r.eventId] : []));
      const open: Promise<IdempotencyBatch> = this.store.beginBatch(this.groupId, eventIds).then((batch) => {
        if (this.open === open) this.batch = batch; // not when committed meanwhile
        return batch;
      });
      this.open = open;
    }
    return this.open;
  }
}

export function canBatch(store: IdempotencyStore | undefined): store is BatchingIdempotencyStore {
  return typeof (store as Partial<BatchingIdempotencyStore> | undefined)?.beginBatch === 'function';
}
