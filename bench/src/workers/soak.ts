import { performance } from 'node:perf_hooks';
import { benchEvkit, benchEvkitWithPostgres } from '../clients/evkit';
import { Progress } from '../clients/progress';
import { dataFor, EVENT_TYPE, keyOf } from '../fixture';
import type { Endpoints, WorkerHandler, WorkerSpec } from '../harness/protocol';
import { BATCH_SIZE, KEY_COUNT } from '../settings';
import { sampleMemory, type MemorySample } from './memory';

export interface SoakRun {
  topic: string;
  groupId: string;
  events: number;
  sampleEvery: number;
}

export interface SoakReport {
  samples: MemorySample[];
  elapsedMs: number;
}

/** Publishes `events` events through createEvkit's `publishBatch` (batches of 100), sampling memory as it goes. */
export async function soakProducerWorker(spec: Extract<WorkerSpec, { kind: 'soak-producer' }>, endpoints: Endpoints): Promise<WorkerHandler> {
  const evkit = benchEvkit(endpoints);
  const data = Array.from({ length: KEY_COUNT }, (_, i) => dataFor(i, spec.valueBytes));
  return Promise.resolve({
    async run(payload): Promise<SoakReport> {
      const { topic, events, sampleEvery } = payload as SoakRun;
      const samples = [sampleMemory(0)];
      const started = performance.now();
      for (let sent = 0; sent < events; sent += BATCH_SIZE) {
        const batch = Array.from({ length: BATCH_SIZE }, (_, i) => {
          const index = (sent + i) % KEY_COUNT;
          return { type: EVENT_TYPE, key: keyOf(index), data: data[index]! } as const;
        });
        await evkit.publishBatch(topic, batch);
        if ((sent + BATCH_SIZE) % sampleEvery === 0) samples.push(sampleMemory(sent + BATCH_SIZE));
      }
      return { samples, elapsedMs: performance.now() - started };
    },
    stop: () => evkit.close(),
  });
}

/** Consumes through a createEvkit consumer with PostgreSQL dedupe, sampling memory as it goes. */
export function soakConsumerWorker(spec: Extract<WorkerSpec, { kind: 'soak-consumer' }>, endpoints: Endpoints): Promise<WorkerHandler> {
  const evkit = benchEvkitWithPostgres(endpoints, { processedEventsTable: spec.dedupeTable });
  return Promise.resolve({
    async run(payload): Promise<SoakReport> {
      const { topic, groupId, events, sampleEvery } = payload as SoakRun;
      const progress = new Progress(events);
      const samples = [sampleMemory(0)];
      const consumer = evkit.consumer({ groupId, topics: [topic], fromBeginning: true, retry: false }).on(EVENT_TYPE, () => {
        if ((progress.count + 1) % sampleEvery === 0) samples.push(sampleMemory(progress.count + 1));
        return progress.handler();
      });
      await consumer.start();
      const { elapsedMs } = await progress.done;
      await consumer.stop();
      return { samples, elapsedMs };
    },
    stop: () => evkit.close(),
  });
}
