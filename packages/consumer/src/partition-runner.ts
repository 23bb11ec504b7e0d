import { boundedErrorText, isEvkitError } from '@evkit/errors';
import type { BatchingIdempotencyStore } from '@evkit/idempotency';
import type { Logger } from '@evkit/telemetry';
import type { IncomingRecord, PartitionBatch, SubscriberTransport } from '@evkit/transport';
import { exponentialDelay, MAX_TIMER_MS, sleep } from './backoff';
import { BatchTransaction, type ClaimableRecord } from './batch-transaction';
import type { LagReporter } from './lag';
import { OffsetTracker } from './offset-tracker';
import type { Decoded, Router } from './router';

export interface PartitionRunnerDeps {
  transport: SubscriberTransport;
  router: Router;
  lag: LagReporter;
  logger: Logger;
  stop: AbortSignal;
  keyConcurrency: number;
  maxInFlight: number;
  commitIntervalMs: number;
  backoff: { initialMs: number; maxMs: number };
  /** With dedupeBatching: the store each partition batch opens one transaction of. */
  batchingStore: BatchingIdempotencyStore | undefined;
  /** When a record may be handled (failure routing's retry tiers); undefined: now. */
  deferUntil: ((record: IncomingRecord) => number | undefined) | undefined;
  /** Whether a paused partition may be resumed when its record is due (not while the consumer is paused or stopped). */
  mayResume(): boolean;
  onError: ((error: unknown, record: IncomingRecord) => void) | undefined;
}

/**
 * Runs partition batches: per-key queues in offset order (`keyConcurrency` keys at once), at most
 * `maxInFlight` records in handlers across partitions, commits up to the first record not done,
 * deferral of records not due (their partition paused), back-off after a failure.
 */
export class PartitionRunner {
  private readonly slots: Semaphore;
  private readonly failures = new Map<string, number>(); // consecutive failures per partition, for back-off

  constructor(private readonly deps: PartitionRunnerDeps) {
    this.slots = new Semaphore(deps.maxInFlight);
  }

  async run(batch: PartitionBatch): Promise<void> {
    const { transport, router, lag, stop, batchingStore, commitIntervalMs } = this.deps;
    const key = lag.keyOf(batch.topic, batch.partition);
    const tracker = new OffsetTracker(batch.records);
    const noteProgress = () => lag.noteOldest(key, tracker.firstPendingRecord()?.timestamp);
    noteProgress();
    let failed: { error: unknown; record: IncomingRecord } | undefined;
    let commitFailed: unknown;
    let deferredUntil: number | undefined;
    let lastCommit = Date.now();
    let committedTo = batch.records[0]?.offset; // where a redelivery starts when an offset commit fails
    // dedupeBatching: every record decoded first, so that one statement claims their event ids.
    const decodings = batchingStore ? await decodeAll(router, batch.records) : undefined;
    const transaction = batchingStore && decodings ? new BatchTransaction(batchingStore, router.groupId, await claimable(decodings)) : undefined;
    const commitDone = async () => {
      if (transaction) {
        // The database first: a record is done once its transaction committed.
        try {
          for (const offset of await transaction.commit()) tracker.markDone(offset);
        } catch (error) {
          failed ??= { error, record: tracker.firstPendingRecord()! };
        }
        noteProgress();
      }
      const offset = tracker.commitOffset();
      if (offset !== undefined && offset !== committedTo && batch.isActive()) {
        try {
          await transport.commit({ topic: batch.topic, partition: batch.partition, offset });
          committedTo = offset;
        } catch (error) {
          // Backed off here like a handler failure (the subscriber has no back-off of its own):
          // delivered again from the last offset committed; dedupe absorbs what was handled.
          commitFailed ??= error;
        }
      }
      lastCommit = Date.now();
    };
    const mayStart = () => failed === undefined && commitFailed === undefined && deferredUntil === undefined && batch.isActive() && !stop.aborted;

    // Per-key queues in offset order; `keyConcurrency` keys at a time. One queue in a transaction.
    const keyQueues = transaction ? [[...batch.records]] : queuesByKey(batch.records);
    const worker = async () => {
      for (let queue = keyQueues.shift(); queue; queue = keyQueues.shift()) {
        for (const record of queue) {
          if (!mayStart()) return;
          // A batch broken under an earlier record (an abandoned handler's statement stuck past
          // its bound): this record is not at fault, so it is not handled (and routed) but redelivered.
          const broken = await transaction?.failure();
          if (broken) {
            failed ??= { error: broken, record };
            return;
          }
          let due: number | undefined;
          try {
            due = this.deps.deferUntil?.(record);
          } catch (error) {
            failed ??= { error, record };
            break;
          }
          // NaN or a past time: due now. A time past Node's longest timer waits that long at most.
          if (due !== undefined && due > Date.now()) {
            deferredUntil = Math.min(deferredUntil ?? due, due);
            return;
          }
          // The batch's transaction opens before the record's middleware: a failed claim (a
          // zombie's rows held past the lock timeout, a lost connection) is the batch's, so the
          // partition backs off and is redelivered; failure routing never sees it as the record's.
          const unopened = await transaction?.ready(record.offset);
          if (unopened) {
            failed ??= { error: unopened, record };
            return;
          }
          await this.slots.acquire();
          try {
            // The timeout middleware rejects without waiting for a hung handler, so this slot is
            // released even if the handler never settles.
            await router.handle(record, decodings?.get(record) ?? router.decode(record), transaction?.storeFor(record.offset));
            if (transaction) {
              transaction.markHandled(record.offset);
            } else {
              tracker.markDone(record.offset);
              noteProgress();
            }
          } catch (error) {
            failed ??= { error, record };
            break; // the rest of this key waits for the redelivery: order holds
          } finally {
            this.slots.release();
          }
          if (Date.now() - lastCommit >= commitIntervalMs) {
            await batch.heartbeat();
            await commitDone();
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.deps.keyConcurrency, keyQueues.length) }, worker));
    await commitDone();
    if (!batch.isActive()) lag.noteOldest(key, undefined); // another member owns it now

    if (commitFailed !== undefined) {
      const from = batch.records.find((r) => r.offset === committedTo) ?? batch.records[0]!;
      await this.backOff(batch, key, failed ?? { error: commitFailed, record: from }, from);
      return;
    }
    if (deferredUntil !== undefined && !failed && batch.isActive()) this.defer(batch, tracker.firstPendingRecord(), deferredUntil);
    if (failed) await this.backOff(batch, key, failed, tracker.firstPendingRecord() ?? failed.record);
    else if (tracker.allDone()) this.failures.delete(key);
  }

  /** Not due yet: deliver again from the first record not done, once it is; only this partition waits. */
  private defer(batch: PartitionBatch, from: IncomingRecord | undefined, until: number): void {
    const { transport, logger } = this.deps;
    const partition = [{ topic: batch.topic, partition: batch.partition }];
    if (from) transport.seek({ topic: batch.topic, partition: batch.partition, offset: from.offset });
    transport.pause(partition);
    const waitMs = Math.min(MAX_TIMER_MS, until - Date.now());
    logger.debug('partition paused until its first record is due', { topic: batch.topic, partition: batch.partition, offset: from?.offset, waitMs });
    const timer = setTimeout(() => {
      if (this.deps.mayResume()) transport.resume(partition);
    }, waitMs);
    timer.unref();
  }

  /** A failure stops the partition: redeliver from the first record not done, after a growing back-off. */
  private async backOff(batch: PartitionBatch, key: string, failed: { error: unknown; record: IncomingRecord }, from: IncomingRecord): Promise<void> {
    const attempts = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, attempts);
    const delay = exponentialDelay(attempts, this.deps.backoff.initialMs, this.deps.backoff.maxMs);
    const { error } = failed;
    this.deps.logger.error('handling failed: partition will redeliver from the first unhandled record', {
      topic: batch.topic,
      partition: batch.partition,
      offset: failed.record.offset,
      redeliverFrom: from.offset,
      attempts,
      backoffMs: delay,
      code: isEvkitError(error) ? error.code : undefined,
      retriable: isEvkitError(error) ? error.retriable : undefined,
      error: boundedErrorText(error),
    });
    this.deps.onError?.(error, failed.record);
    if (batch.isActive()) this.deps.transport.seek({ topic: batch.topic, partition: batch.partition, offset: from.offset });
    // Cut short when the consumer stops: stop must not wait out a back-off.
    await sleep(delay, this.deps.stop);
  }
}

/** A counting semaphore: bounds work in flight across partitions. */
export class Semaphore {
  private waiting: (() => void)[] = [];
  constructor(private free: number) {}
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free -= 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free += 1;
  }
}

/** Records of one key in offset order, one queue per key. */
export function queuesByKey(records: readonly IncomingRecord[]): IncomingRecord[][] {
  const queues = new Map<string, IncomingRecord[]>();
  for (const record of records) {
    // Records without a key share one queue: their relative order is kept too.
    const recordKey = record.key === null ? '' : typeof record.key === 'string' ? record.key : record.key.toString('base64');
    const queue = queues.get(recordKey);
    if (queue) queue.push(record);
    else queues.set(recordKey, [record]);
  }
  return [...queues.values()];
}

/** Decodes one record after the other (a schema fetched once serves the rest); a failure stays with its record. */
async function decodeAll(router: Router, records: readonly IncomingRecord[]): Promise<Map<IncomingRecord, Promise<Decoded>>> {
  const decodings = new Map<IncomingRecord, Promise<Decoded>>();
  for (const record of records) {
    const decoding = router.decode(record);
    decodings.set(record, decoding);
    await decoding.catch(() => undefined); // its failure is its record's, raised when it is handled
  }
  return decodings;
}

/** The event ids dedupe will ask for: those of decoded records with a handler. */
function claimable(decodings: Map<IncomingRecord, Promise<Decoded>>): Promise<ClaimableRecord[]> {
  return Promise.all(
    [...decodings].map(async ([record, decoding]) => ({
      offset: record.offset,
      eventId: await decoding.then(({ decoded, route }) => (route ? decoded.event.id : undefined), () => undefined),
    })),
  );
}
