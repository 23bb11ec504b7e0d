import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { newEventId } from '@evkit/envelope';
import { benchEvkitWithPostgres } from '../clients/evkit';
import { Progress } from '../clients/progress';
import { dataFor, EVENT_TYPE, keyOf } from '../fixture';
import { measurement, type Endpoints, type Measurement, type WorkerHandler, type WorkerSpec } from '../harness/protocol';
import { KEY_COUNT } from '../settings';
import { percentiles } from '../stats';

export interface OutboxRun {
  topic: string;
  groupId: string;
  /** Offered rate, events per second, on a fixed schedule. */
  rate: number;
  seconds: number;
}

const VALUE_BYTES = 1024;
/** Writer transactions in flight at most; a late schedule shows up as latency, not as a lower rate. */
const WRITERS = 8;

/**
 * Outbox end to end through createEvkit: writer transactions on a fixed schedule, the relay (its
 * polling relay in this process, or Debezium on the Connect worker, set up by the scenario), and
 * a consumer whose handler notes, per event, now minus the event's scheduled commit time
 * (coordinated omission: a late write counts from when it was due).
 */
export async function outboxWorker(spec: Extract<WorkerSpec, { kind: 'outbox' }>, endpoints: Endpoints): Promise<WorkerHandler> {
  const evkit = benchEvkitWithPostgres(endpoints, { outboxTable: spec.outboxTable }, WRITERS + 2);
  await evkit.migrate();
  const data = Array.from({ length: KEY_COUNT }, (_, i) => dataFor(i, VALUE_BYTES));

  return {
    async run(payload): Promise<Measurement> {
      const { topic, groupId, rate, seconds } = payload as OutboxRun;
      const total = Math.round(rate * seconds);
      const due = new Map<string, number>();
      const latencies: number[] = [];
      const progress = new Progress(total);
      const consumer = evkit.consumer({ groupId, topics: [topic], fromBeginning: true, retry: false, dedupe: false }).on(EVENT_TYPE, async (event) => {
        latencies.push(performance.now() - due.get(event.id)!);
        return progress.handler();
      });
      const errors: unknown[] = [];
      await consumer.start();
      // The polling relay runs from the first run on (createEvkit keeps one per process); Debezium is set up by the scenario.
      if (spec.relay.kind === 'polling') evkit.startRelay({ intervalMs: spec.relay.intervalMs });

      const write = async (index: number, dueAt: number) => {
        const id = newEventId();
        due.set(id, dueAt);
        await evkit.inTransaction((tx) => evkit.write(tx, topic, { id, type: EVENT_TYPE, key: keyOf(index), data: data[index % KEY_COUNT]! }));
      };
      const inFlight = new Set<Promise<void>>();
      const started = performance.now();
      for (let i = 0; i < total; i++) {
        const dueAt = started + (i * 1000) / rate;
        const wait = dueAt - performance.now();
        if (wait > 1) await sleep(wait);
        while (inFlight.size >= WRITERS) await Promise.race(inFlight);
        const work = write(i, dueAt).catch((error: unknown) => void errors.push(error));
        inFlight.add(work);
        void work.finally(() => inFlight.delete(work));
      }
      await Promise.all(inFlight);
      const timeout = sleep(60_000).then(() => 'timeout' as const);
      const outcome = await Promise.race([progress.done, timeout]);
      await consumer.stop();
      if (outcome === 'timeout') throw new Error(`outbox: ${progress.count} of ${total} events arrived within 60 s; errors: ${errors.map(String).join('; ')}`);
      const [p50Ms, p99Ms] = percentiles(latencies, [0.5, 0.99]) as [number, number];
      return measurement(total, outcome.elapsedMs, { p50Ms, p99Ms });
    },
    stop: () => evkit.close(),
  };
}
