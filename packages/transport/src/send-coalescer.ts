import { TransportConfigError } from './errors';
import { checkPositiveInteger } from './option-checks';
import type { OutgoingRecord, RecordPosition } from './transport';

// Sends that arrive while a request is in flight wait, and then go out together in one request,
// so that many concurrent single sends cost about what one batch does. Each caller gets its own
// positions; a failed request fails exactly the callers whose records it carried, and a request
// acknowledged only in part fails only the callers of the records without a position.

/** The publisher options of coalescing, the same for every transport. */
export interface SendCoalescingOptions {
  /**
   * Sends that arrive while a request is in flight join the next request, up to this many
   * records in all. A single send larger than this still goes out, alone. Default 10,000.
   */
  maxBatchRecords?: number;
  /** The same bound in bytes (keys, values and headers). Default 1 MiB, Java's `max.request.size`. */
  maxBatchBytes?: number;
  /** Wait this long after a send arrives at an idle publisher, for others to join it. Default 0. */
  lingerMs?: number;
}

export interface SendCoalescing {
  maxBatchRecords: number;
  maxBatchBytes: number;
  lingerMs: number;
}

/** The coalescing options with their defaults applied; throws TransportConfigError naming the option at fault. */
export function resolveSendCoalescing(options: SendCoalescingOptions): SendCoalescing {
  checkPositiveInteger('maxBatchRecords', options.maxBatchRecords);
  checkPositiveInteger('maxBatchBytes', options.maxBatchBytes);
  if (options.lingerMs !== undefined && !(Number.isInteger(options.lingerMs) && options.lingerMs >= 0 && options.lingerMs <= 60_000)) {
    throw new TransportConfigError(`lingerMs must be an integer from 0 to 60000, got ${JSON.stringify(options.lingerMs)}`);
  }
  return { maxBatchRecords: options.maxBatchRecords ?? 10_000, maxBatchBytes: options.maxBatchBytes ?? 1024 * 1024, lingerMs: options.lingerMs ?? 0 };
}

export interface SendCoalescer {
  send(records: readonly OutgoingRecord[]): Promise<RecordPosition[]>;
  /** Resolves once nothing waits, lingers or is in flight. */
  drain(): Promise<void>;
}

interface PendingSend {
  records: readonly OutgoingRecord[];
  bytes: number;
  resolve(positions: RecordPosition[]): void;
  reject(error: unknown): void;
}

/**
 * A record's outcome in a request: its position, or why it has none. A request acknowledged
 * for some partitions only (a leader moved mid-request) still has positions for the others.
 */
export type RecordOutcome = RecordPosition | Error;

/**
 * One `sendAll` in flight at a time, never more: it is called again only once the previous call
 * settled. The sends that arrived meanwhile form the next call, within the bounds, in the order
 * they came (so a partition's records keep the order of their `send` calls). `sendAll` answers
 * an outcome per record, in the order of the records it was given, or throws for all of them;
 * each caller gets its slice of positions, or the error of its first record without one.
 * `lingerMs` holds a send to an idle coalescer that long, for others to join it.
 */
export function createSendCoalescer(sendAll: (records: OutgoingRecord[]) => Promise<readonly RecordOutcome[]>, bounds: SendCoalescing): SendCoalescer {
  const waiting: PendingSend[] = [];
  let inFlight: Promise<void> | undefined;
  let lingering = false;
  const pump = () => {
    if (inFlight || lingering || waiting.length === 0) return;
    const taken = takeBatch(waiting, bounds.maxBatchRecords, bounds.maxBatchBytes);
    // Called at once; one that throws instead of rejecting fails its callers all the same.
    const work = new Promise<readonly RecordOutcome[]>((resolve) => resolve(sendAll(taken.flatMap((pending) => pending.records))));
    inFlight = work
      .then(
        (outcomes) => {
          let from = 0;
          for (const pending of taken) {
            const mine = outcomes.slice(from, (from += pending.records.length));
            const failed = mine.find((outcome): outcome is Error => outcome instanceof Error);
            if (failed) pending.reject(failed);
            else pending.resolve(mine as RecordPosition[]);
          }
        },
        (error: unknown) => {
          for (const pending of taken) pending.reject(error);
        },
      )
      .finally(() => {
        inFlight = undefined;
        pump();
      });
  };
  return {
    send(records) {
      if (records.length === 0) return Promise.resolve([]);
      return new Promise<RecordPosition[]>((resolve, reject) => {
        waiting.push({ records, bytes: sizeOf(records), resolve, reject });
        if (bounds.lingerMs > 0 && !inFlight && !lingering && waiting.length === 1) {
          lingering = true;
          setTimeout(() => {
            lingering = false;
            pump();
          }, bounds.lingerMs);
        } else {
          pump();
        }
      });
    },
    async drain() {
      while (inFlight || waiting.length > 0 || lingering) {
        if (inFlight) await inFlight;
        else if (lingering) await new Promise((resolve) => setTimeout(resolve, bounds.lingerMs));
        else pump();
      }
    },
  };
}

/** The sends at the head of `waiting` that fit the bounds together; at least one. */
function takeBatch(waiting: PendingSend[], maxRecords: number, maxBytes: number): PendingSend[] {
  const taken = [waiting.shift()!];
  let records = taken[0]!.records.length;
  let bytes = taken[0]!.bytes;
  while (waiting.length > 0 && records + waiting[0]!.records.length <= maxRecords && bytes + waiting[0]!.bytes <= maxBytes) {
    const next = waiting.shift()!;
    records += next.records.length;
    bytes += next.bytes;
    taken.push(next);
  }
  return taken;
}

/** Characters or bytes of keys, values and header names and values: a bound, not an exact size. */
function sizeOf(records: readonly OutgoingRecord[]): number {
  let bytes = 0;
  for (const record of records) {
    bytes += (record.key?.length ?? 0) + (record.value?.length ?? 0);
    for (const [name, value] of Object.entries(record.headers)) bytes += name.length + headerLength(value);
  }
  return bytes;
}

function headerLength(value: OutgoingRecord['headers'][string]): number {
  if (value === undefined) return 0;
  return Array.isArray(value) ? value.reduce((sum, part) => sum + part.length, 0) : value.length;
}
