import { newEventId } from '@evkit/envelope';
import { isEvkitError } from '@evkit/errors';
import { partitionForKey } from '@evkit/transport';
import type { StepProducer } from './step';
import { STEP_TYPE, sleep, type Step } from './workload';

// The producer side and the ground truth: every key is a sequence of events sent one after the
// other; an event whose send failed is sent again with the same id (what an application does),
// so it may land twice but counts once. An event is in the ledger once its send was
// acknowledged (acks=all): those are the events that must never be lost.

export interface Ack extends Step {
  partition: number;
  offset: string;
  /** When the acknowledgement came, ms since the epoch. */
  at: number;
}

export interface SendFailure {
  uid: string;
  key: string;
  seq: number;
  code: string;
  retriable: boolean | undefined;
  /** The transport said the records may or may not have been written (TransportSendError). */
  outcomeUnknown: boolean;
  message: string;
  at: number;
}

export interface LoadOptions {
  run: string;
  topic: string;
  producer: StepProducer;
  keys: readonly string[];
  perKey: number;
  /** Pause between two events of one key; sets the pace, so faults land mid-stream. */
  paceMs?: number;
  /** Attempts per event before the load gives up on it (it is then not acknowledged). Default 30. */
  maxAttempts?: number;
  /** The whole load stops trying after this long. Default 5 minutes. */
  deadlineMs?: number;
  /** Pause between two attempts of one event. Default 500 ms. */
  retryPauseMs?: number;
}

export interface Load {
  readonly acked: Ack[];
  readonly failures: SendFailure[];
  /** Events whose every attempt failed: maybe on the topic, maybe not. */
  readonly abandoned: Step[];
  attempts(): number;
  /** Resolves when every key sent all its events (or gave up). */
  readonly done: Promise<void>;
  /** Stops after the sends in flight. */
  stop(): void;
}

export function startLoad(options: LoadOptions): Load {
  const acked: Ack[] = [];
  const failures: SendFailure[] = [];
  const abandoned: Step[] = [];
  const maxAttempts = options.maxAttempts ?? 30;
  const deadline = Date.now() + (options.deadlineMs ?? 300_000);
  let attempts = 0;
  let stopped = false;

  const sendKey = async (key: string) => {
    for (let seq = 0; seq < options.perKey && !stopped; seq += 1) {
      const step: Step = { run: options.run, key, seq, uid: newEventId() };
      let sent = false;
      for (let attempt = 1; attempt <= maxAttempts && Date.now() < deadline && !sent; attempt += 1) {
        attempts += 1;
        try {
          const { position } = await options.producer.publish(options.topic, { id: step.uid, type: STEP_TYPE, key, data: step });
          acked.push({ ...step, partition: position.partition, offset: position.offset, at: Date.now() });
          sent = true;
        } catch (error) {
          failures.push({
            ...step,
            code: isEvkitError(error) ? error.code : 'error',
            retriable: isEvkitError(error) ? error.retriable : undefined,
            outcomeUnknown: (error as { outcomeUnknown?: unknown }).outcomeUnknown === true,
            message: error instanceof Error ? error.message.slice(0, 300) : String(error),
            at: Date.now(),
          });
          await sleep(options.retryPauseMs ?? 500);
        }
      }
      if (!sent) {
        abandoned.push(step);
        return; // a later event of this key must not overtake it
      }
      if (options.paceMs) await sleep(options.paceMs);
    }
  };

  const done = Promise.all(options.keys.map(sendKey)).then(() => undefined);
  return {
    acked,
    failures,
    abandoned,
    attempts: () => attempts,
    done,
    stop: () => {
      stopped = true;
    },
  };
}

/** A scenario's clean-up: stops the load, waits for its last send, closes its producer. */
export async function endLoad(load: Load, producer: Pick<StepProducer, 'close'>): Promise<void> {
  load.stop();
  await load.done.catch(() => undefined);
  await producer.close().catch(() => undefined);
}

/** The failures grouped by code, retriable flag and message start, for the notes. */
export function summarizeFailures(failures: readonly SendFailure[]): string[] {
  const groups = new Map<string, { count: number; first: number; last: number }>();
  for (const f of failures) {
    const label = `${f.code}${f.retriable === undefined ? '' : f.retriable ? ' (retriable)' : ' (not retriable)'}: ${f.message.slice(0, 120)}`;
    const group = groups.get(label) ?? { count: 0, first: f.at, last: f.at };
    group.count += 1;
    group.last = f.at;
    groups.set(label, group);
  }
  return [...groups].map(([label, g]) => `${g.count} send failure(s) ${label}`);
}

/** Events exposed to a send whose outcome was unknown: the ones B1 could have lost. */
export function exposedToUnknownOutcome(failures: readonly SendFailure[]): { sends: number; events: number } {
  const unknown = failures.filter((f) => f.outcomeUnknown);
  return { sends: unknown.length, events: new Set(unknown.map((f) => f.uid)).size };
}

export function keysNamed(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
}

/**
 * Keys around one singled-out key (a failing or hung one): three that hash to its partition,
 * whose order and latency show whether it holds them up, and four on other partitions.
 */
export function keysBeside(key: string, partitions: number): string[] {
  const partition = partitionForKey(key, partitions);
  const candidates = keysNamed('k', 64);
  return [
    ...candidates.filter((k) => partitionForKey(k, partitions) === partition).slice(0, 3),
    ...candidates.filter((k) => partitionForKey(k, partitions) !== partition).slice(0, 4),
  ];
}
