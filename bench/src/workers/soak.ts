import { performance } from 'node:perf_hooks';
import { createAvroCodec } from '@evkit/codec';
import { createConsumer } from '@evkit/consumer';
import { createPostgresIdempotencyStore } from '@evkit/idempotency';
import { createProducer } from '@evkit/producer';
import { KAFKAJS_LOG_LEVEL } from '../clients/kafkajs';
import { Progress } from '../clients/progress';
import { dataFor, EVENT_SOURCE, EVENT_TYPE, keyOf, ORDER_SCHEMA } from '../fixture';
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

/** Publishes `events` events with @evkit/producer (batches of 100), sampling memory as it goes. */
export async function soakProducerWorker(spec: Extract<WorkerSpec, { kind: 'soak-producer' }>, endpoints: Endpoints): Promise<WorkerHandler> {
  const codec = createAvroCodec({ registry: { url: endpoints.registryUrl } });
  const producer = createProducer({ codec, source: EVENT_SOURCE, kafka: { brokers: endpoints.brokers, clientId: 'bench-soak', logLevel: KAFKAJS_LOG_LEVEL } });
  const data = Array.from({ length: KEY_COUNT }, (_, i) => dataFor(i, spec.valueBytes));
  await producer.connect();
  return {
    async run(payload): Promise<SoakReport> {
      const { topic, events, sampleEvery } = payload as SoakRun;
      await codec.prepare(topic, ORDER_SCHEMA);
      const samples = [sampleMemory(0)];
      const started = performance.now();
      for (let sent = 0; sent < events; sent += BATCH_SIZE) {
        const items = Array.from({ length: BATCH_SIZE }, (_, i) => {
          const index = (sent + i) % KEY_COUNT;
          return { event: { type: EVENT_TYPE, partitionkey: keyOf(index), data: data[index]! }, schema: ORDER_SCHEMA };
        });
        await producer.publishBatch(topic, items);
        if ((sent + BATCH_SIZE) % sampleEvery === 0) samples.push(sampleMemory(sent + BATCH_SIZE));
      }
      return { samples, elapsedMs: performance.now() - started };
    },
    stop: () => producer.disconnect(),
  };
}

/** Consumes with @evkit/consumer and PostgreSQL dedupe, sampling memory as it goes. */
export function soakConsumerWorker(spec: Extract<WorkerSpec, { kind: 'soak-consumer' }>, endpoints: Endpoints): Promise<WorkerHandler> {
  const codec = createAvroCodec({ registry: { url: endpoints.registryUrl } });
  const store = createPostgresIdempotencyStore({ connectionString: endpoints.postgresUrl, table: spec.dedupeTable });
  return Promise.resolve({
    async run(payload): Promise<SoakReport> {
      const { topic, groupId, events, sampleEvery } = payload as SoakRun;
      const progress = new Progress(events);
      const samples = [sampleMemory(0)];
      const consumer = createConsumer({
        groupId,
        topics: [topic],
        codec,
        kafka: { brokers: endpoints.brokers, clientId: 'bench-soak', logLevel: KAFKAJS_LOG_LEVEL },
        idempotency: store,
        fromBeginning: true,
      }).on(EVENT_TYPE, () => {
        if ((progress.count + 1) % sampleEvery === 0) samples.push(sampleMemory(progress.count + 1));
        return progress.handler();
      });
      await consumer.start();
      const { elapsedMs } = await progress.done;
      await consumer.stop();
      return { samples, elapsedMs };
    },
    stop: () => store.close(),
  });
}
