import { performance } from 'node:perf_hooks';
import { fixturePool, type FixtureRecord } from '../fixture';
import { isPlatformaticVariant, measurement, type Endpoints, type ProduceRun, type WorkerHandler, type WorkerSpec } from '../harness/protocol';
import { BATCH_SIZE, KEY_COUNT } from '../settings';
import { percentiles } from '../stats';

export async function producerWorker(spec: Extract<WorkerSpec, { kind: 'producer' }>, endpoints: Endpoints): Promise<WorkerHandler> {
  // Only the module of this variant's client is loaded (the platformatic one runs on Node 22 only).
  const { variant } = spec;
  const client = isPlatformaticVariant(variant)
    ? await (await import('../clients/platformatic.js')).createPlatformaticProducerClient(variant, endpoints)
    : (await import('../clients/producers.js')).createProducerClient(variant, endpoints);
  // KEY_COUNT distinct records (a multiple of the batch size), cycled.
  const pool = fixturePool(KEY_COUNT, spec.valueBytes, spec.schemaId);
  const batches: FixtureRecord[][] = [];
  for (let i = 0; i < pool.length; i += BATCH_SIZE) batches.push(pool.slice(i, i + BATCH_SIZE));
  await client.connect();
  return {
    async run(payload) {
      const { topic, records, awaitEach, concurrency = 1 } = payload as ProduceRun;
      await client.prepare(topic);
      if (awaitEach) {
        const latencies = new Float64Array(records);
        const started = performance.now();
        let next = 0;
        const sender = async () => {
          for (let i = next++; i < records; i = next++) {
            const sendAt = performance.now();
            await client.send(topic, [pool[i % pool.length]!]);
            latencies[i] = performance.now() - sendAt;
          }
        };
        await Promise.all(Array.from({ length: concurrency }, sender));
        const elapsedMs = performance.now() - started;
        const [p50Ms, p99Ms] = percentiles(Array.from(latencies), [0.5, 0.99]) as [number, number];
        return measurement(records, elapsedMs, { p50Ms, p99Ms });
      }
      const started = performance.now();
      for (let sent = 0, i = 0; sent < records; sent += BATCH_SIZE, i++) await client.send(topic, batches[i % batches.length]!);
      return measurement(Math.ceil(records / BATCH_SIZE) * BATCH_SIZE, performance.now() - started);
    },
    stop: () => client.disconnect(),
  };
}
