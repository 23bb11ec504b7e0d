import { newEventId } from '@evkit/envelope';
import { isEvkitError } from '@evkit/errors';
import type { RecordPosition } from '@evkit/transport';
import type { TopicRecord } from './kafka';
import type { Ack, SendFailure } from './load';
import type { Step } from './step';
import { sleep } from './workload';

// Scenario 14: many concurrent publishers on one producer, so their publishes are coalesced into
// shared requests. Unlike the keyed load (load.ts), a failed publish is not sent again: each
// event is published exactly once, so an event id on the topic twice is the producer's own
// duplicate, and the topic itself is the only ground truth needed.

export interface CoalescingLoadOptions {
  run: string;
  /** Number of concurrent publishers; publisher i publishes key `p-i`, one event at a time. */
  publishers: number;
  publish: (step: Step) => Promise<RecordPosition>;
  /** Pause after a failed publish, as a service answering its request with an error would. */
  failurePauseMs?: number;
}

/** An acknowledged publish, and when it was called. */
export interface CoalescedAck extends Ack {
  calledAt: number;
}

export interface CoalescingLoad {
  readonly acked: CoalescedAck[];
  readonly failures: SendFailure[];
  /** Failed publishes whose error was not an EvkitError with a code: each a failure of the scenario. */
  readonly untyped: string[];
  /** Every event published, acknowledged or not, by id. */
  readonly published: ReadonlyMap<string, Step>;
  /** Stops the publishers and waits for their publishes in flight (bounded). */
  stop(timeoutMs: number): Promise<void>;
}

export function startCoalescingLoad(options: CoalescingLoadOptions): CoalescingLoad {
  const acked: CoalescedAck[] = [];
  const failures: SendFailure[] = [];
  const untyped: string[] = [];
  const published = new Map<string, Step>();
  let stopped = false;

  const publisher = async (key: string) => {
    for (let seq = 0; !stopped; seq += 1) {
      const step: Step = { run: options.run, key, seq, uid: newEventId() };
      published.set(step.uid, step);
      const calledAt = Date.now();
      try {
        const position = await options.publish(step);
        acked.push({ ...step, partition: position.partition, offset: position.offset, at: Date.now(), calledAt });
      } catch (error) {
        const typed = isEvkitError(error) && typeof error.code === 'string' && error.code.length > 0;
        if (!typed) untyped.push(`${key}#${seq}: ${String(error).slice(0, 200)}`);
        failures.push({
          ...step,
          code: typed ? error.code : 'untyped',
          retriable: typed ? error.retriable : undefined,
          outcomeUnknown: (error as { outcomeUnknown?: unknown }).outcomeUnknown === true,
          message: error instanceof Error ? error.message.slice(0, 300) : String(error),
          at: Date.now(),
        });
        await sleep(options.failurePauseMs ?? 200);
      }
    }
  };
  const done = Promise.all(Array.from({ length: options.publishers }, (_, i) => publisher(`p-${i}`)));
  return {
    acked,
    failures,
    untyped,
    published,
    async stop(timeoutMs) {
      stopped = true;
      await Promise.race([done, sleep(timeoutMs)]);
    },
  };
}

export interface TopicCheck {
  /** Acknowledged, and their id nowhere on the topic. */
  lost: string[];
  /** Acknowledged, on the topic, but not at the partition and offset their publish resolved with. */
  misplaced: string[];
  /** Copies beyond the first of one event id (each event was published once). */
  duplicates: string[];
  /** An acknowledged event of a key at a lower offset than an earlier-acknowledged one of its key. */
  orderViolations: string[];
  /** Failed publishes whose event is on the topic all the same (their outcome was unknown). */
  failedButWritten: number;
  /** Records on the topic that no publisher of this run published. */
  foreign: number;
}

/** The topic, read back, against every publish's outcome. */
export function checkTopic(records: readonly TopicRecord[], load: CoalescingLoad): TopicCheck {
  const copies = new Map<string, TopicRecord[]>();
  let foreign = 0;
  for (const record of records) {
    const id = record.headers.ce_id;
    if (id === undefined || !load.published.has(id)) {
      foreign += 1;
      continue;
    }
    const found = copies.get(id);
    if (found) found.push(record);
    else copies.set(id, [record]);
  }
  const result: TopicCheck = { lost: [], misplaced: [], duplicates: [], orderViolations: [], failedButWritten: 0, foreign };
  for (const [id, found] of copies) if (found.length > 1) result.duplicates.push(`${id} at ${found.map((r) => `${r.partition}@${r.offset}`).join(', ')}`);
  for (const a of load.acked) {
    const found = copies.get(a.uid);
    if (!found) result.lost.push(`${a.key}#${a.seq} (${a.uid}) acknowledged at ${a.partition}@${a.offset}`);
    else if (!found.some((r) => r.partition === a.partition && r.offset === a.offset)) {
      result.misplaced.push(`${a.key}#${a.seq} (${a.uid}) acknowledged at ${a.partition}@${a.offset}, found at ${found.map((r) => `${r.partition}@${r.offset}`).join(', ')}`);
    }
  }
  // Per key, in the order the publisher's awaited publishes were acknowledged (= seq order).
  const last = new Map<string, Ack>();
  for (const a of [...load.acked].sort((x, y) => x.key.localeCompare(y.key) || x.seq - y.seq)) {
    const before = last.get(a.key);
    if (before && (before.partition !== a.partition || BigInt(before.offset) >= BigInt(a.offset))) {
      result.orderViolations.push(`${a.key}: #${a.seq} at ${a.partition}@${a.offset} after #${before.seq} at ${before.partition}@${before.offset}`);
    }
    last.set(a.key, a);
  }
  result.failedButWritten = load.failures.filter((f) => copies.has(f.uid)).length;
  return result;
}

/** Acknowledgements per second in [from, to). */
export function ackRate(acked: readonly Ack[], from: number, to: number): number {
  if (to <= from) return 0;
  return acked.filter((a) => a.at >= from && a.at < to).length / ((to - from) / 1000);
}

/** The longest time without any acknowledgement, from `from` to the last one. */
export function longestAckGap(acked: readonly Ack[], from: number): number | null {
  const times = acked.map((a) => a.at).sort((a, b) => a - b);
  if (times.length === 0) return null;
  let gap = times[0]! - from;
  for (let i = 1; i < times.length; i += 1) gap = Math.max(gap, times[i]! - times[i - 1]!);
  return gap;
}
