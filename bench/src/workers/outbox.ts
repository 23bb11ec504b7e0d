import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'pg';
import { createAvroCodec } from '@evkit/codec';
import { createConsumer } from '@evkit/consumer';
import { newEventId } from '@evkit/envelope';
import { createOutboxWriter, createPollingRelay, migrateOutbox } from '@evkit/outbox';
import { KAFKAJS_LOG_LEVEL } from '../clients/kafkajs';
import { Progress } from '../clients/progress';
import { dataFor, EVENT_SOURCE, EVENT_TYPE, keyOf, ORDER_SCHEMA } from '../fixture';
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
 * Outbox end to end: writer transactions on a fixed schedule, the relay (the polling relay in this
 * process, or Debezium on the Connect worker, set up by the scenario), and an evkit consumer whose handler notes, per event, now minus the event's scheduled commit
 * time (coordinated omission: a late write counts from when it was due).
 */
export async function outboxWorker(spec: Extract<WorkerSpec, { kind: 'outbox' }>, endpoints: Endpoints): Promise<WorkerHandler> {
  const kafka = { brokers: endpoints.brokers, clientId: 'bench-outbox', logLevel: KAFKAJS_LOG_LEVEL };
  const pool = new Pool({ connectionString: endpoints.postgresUrl, max: WRITERS + 2 });
  await migrateOutbox(pool, { table: spec.outboxTable });
  const codec = createAvroCodec({ registry: { url: endpoints.registryUrl } });
  const writer = createOutboxWriter({ codec, source: EVENT_SOURCE, table: spec.outboxTable });
  const data = Array.from({ length: KEY_COUNT }, (_, i) => dataFor(i, VALUE_BYTES));

  return {
    async run(payload): Promise<Measurement> {
      const { topic, groupId, rate, seconds } = payload as OutboxRun;
      const total = Math.round(rate * seconds);
      await codec.prepare(topic, ORDER_SCHEMA);
      const due = new Map<string, number>();
      const latencies: number[] = [];
      const progress = new Progress(total);
      const consumer = createConsumer({ groupId, topics: [topic], codec, kafka, fromBeginning: true }).on(EVENT_TYPE, (event) => {
        latencies.push(performance.now() - due.get(event.id)!);
        return progress.handler();
      });
      const errors: unknown[] = [];
      const { relay: how } = spec;
      const relay =
        how.kind === 'polling'
          ? createPollingRelay({ pool, table: spec.outboxTable, kafka, intervalMs: how.intervalMs, onError: (error) => errors.push(error) })
          : undefined;
      await consumer.start();
      relay?.start();

      const write = async (index: number, dueAt: number) => {
        const id = newEventId();
        due.set(id, dueAt);
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          await writer.write(client, {
            aggregateType: topic,
            aggregateId: keyOf(index),
            event: { id, type: EVENT_TYPE, data: data[index % KEY_COUNT]! },
            schema: ORDER_SCHEMA,
          });
          await client.query('COMMIT');
        } finally {
          client.release();
        }
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
      await relay?.stop();
      await consumer.stop();
      if (outcome === 'timeout') throw new Error(`outbox: ${progress.count} of ${total} events arrived within 60 s; errors: ${errors.map(String).join('; ')}`);
      const [p50Ms, p99Ms] = percentiles(latencies, [0.5, 0.99]) as [number, number];
      return measurement(total, outcome.elapsedMs, { p50Ms, p99Ms });
    },
    stop: () => pool.end(),
  };
}
