import { PRODUCER_VARIANTS } from '../clients/producers';
import { interleave, type Variant } from '../harness/interleave';
import type { ProducerVariantId, ProduceRun, WorkerSpec } from '../harness/protocol';
import { functionVariant, nodeVariant, startAll } from '../harness/variants';
import { BATCH_SIZE, PARTITIONS } from '../settings';
import { profilable, profileScenarioVariants, selected, workerRuntime, type ScenarioContext, type ScenarioResult } from './types';

const NODE_VARIANTS: ProducerVariantId[] = [
  'kafkajs-raw',
  'kafkajs-encode',
  'confluent',
  'confluent-linger0',
  'evkit-transport',
  'evkit-envelope',
  'evkit-producer',
  'platformatic-raw',
  'evkit-transport-platformatic',
  'evkit-producer-platformatic',
];
/** Concurrent single sends: raw KafkaJS `send()` per call against evkit's coalescing publisher. */
const CONCURRENT_VARIANTS: ProducerVariantId[] = ['kafkajs-raw', 'confluent', 'evkit-transport', 'evkit-producer'];
const PROFILED: ProducerVariantId[] = ['kafkajs-raw', 'evkit-producer', 'evkit-producer-platformatic'];
const JAVA = { id: 'java', label: 'Java ProducerPerformance', what: 'org.apache.kafka.tools.ProducerPerformance 4.1.1: acks=all, idempotence, null keys, no headers' };

/**
 * Producer throughput: batches of 100 awaited one after another; latency: every single send
 * awaited; or `concurrency` senders at once, each awaiting its own single sends.
 */
export async function producerScenario(ctx: ScenarioContext, options: { valueBytes: number; latency: boolean; concurrency?: number }): Promise<ScenarioResult> {
  const { settings, resources, endpoints } = ctx;
  const { valueBytes, concurrency } = options;
  const latency = options.latency || concurrency !== undefined;
  const id = concurrency !== undefined ? `producer-concurrency-${concurrency}` : latency ? `producer-latency-${valueBytes}` : `producer-throughput-${valueBytes}`;
  // Enough sends that 100 or more senders each make several.
  const records = concurrency !== undefined && concurrency >= 100 ? settings.latencyRecords * 5 : latency ? settings.latencyRecords : settings.producerRecords;
  const topicOf = (variant: string, rep: number | string) => resources.topic(id, variant, rep);
  const reps = Array.from({ length: settings.repetitions + 1 }, (_, rep) => rep);
  const nodeVariants = selected(ctx, concurrency === undefined ? NODE_VARIANTS : CONCURRENT_VARIANTS);
  const withJava = selected(ctx, ['java']).length > 0;
  const profiled = concurrency === undefined ? profilable(ctx, PROFILED) : [];
  await resources.createTopics([
    ...[...(withJava ? ['java'] : []), ...nodeVariants].flatMap((variant) => reps.map((rep) => topicOf(variant, rep))),
    ...profiled.flatMap((variant) => [topicOf(variant, 'profile-warm-up'), topicOf(variant, 'profile')]),
  ]);
  ctx.log(`${id}: ${records} records of ${valueBytes} B per run, ${settings.repetitions} measured run(s) per variant${settings.warmUp ? ' after a warm-up run' : ''}`);

  const specOf = (variant: ProducerVariantId): WorkerSpec => ({ kind: 'producer', variant, valueBytes, schemaId: ctx.schemaId });
  const payload = (variant: string, rep: number | string): ProduceRun => ({ topic: topicOf(variant, rep), records, awaitEach: latency, ...(concurrency === undefined ? {} : { concurrency }) });
  const java: Variant = functionVariant(JAVA.id, JAVA.label, JAVA.what, (rep) =>
    ctx.java.producerPerformance({
      topic: topicOf('java', rep),
      records,
      recordBytes: valueBytes,
      batchRecords: BATCH_SIZE,
      // Latency: a low offered rate, one record per request (linger 0): the broker's floor.
      // Concurrency: Java's producer as an application uses it, sends not awaited one by one.
      ...(latency && concurrency === undefined ? { throughput: 500 } : {}),
    }),
  );
  const variants = await startAll([
    ...(withJava ? [() => Promise.resolve(java)] : []),
    ...nodeVariants.map((variant) => () =>
      nodeVariant({
        id: variant,
        ...PRODUCER_VARIANTS[variant],
        spec: specOf(variant),
        endpoints,
        payload: (rep) => payload(variant, rep),
        ...workerRuntime(ctx, variant),
      }),
    ),
  ]);
  const results = await interleave(variants, settings, ctx.log);

  const profiles = await profileScenarioVariants(ctx, profiled, { scenario: id, specOf, payload });

  if (concurrency !== undefined) {
    return {
      id,
      title: `Concurrent single publishes: ${concurrency} sender(s) at once (${valueBytes} B values)`,
      description: `${records} single-record sends per run from ${concurrency} concurrent sender(s), each awaiting its own send before its next (one publish per incoming request), acks=all, idempotent, to a fresh ${PARTITIONS}-partition topic. Raw KafkaJS: \`send()\` per call (one request each, one in flight). evkit: the coalescing publisher (sends that arrive while a request is in flight share the next). Java: ProducerPerformance, asynchronous, batching as it does by itself.`,
      kind: 'latency',
      baseline: 'kafkajs-raw',
      variants: results,
      notes: [],
      profiles,
    };
  }
  return {
    id,
    title: latency ? `Producer latency, each send awaited (${valueBytes} B values)` : `Producer throughput (${valueBytes} B values, batches of ${BATCH_SIZE})`,
    description: latency
      ? `${records} single-record sends per run, each awaited before the next (acks=all, idempotent), to a fresh ${PARTITIONS}-partition topic. Java: ProducerPerformance at an offered 500 records/s with linger.ms=0 (it does not await each send), for the broker's floor.`
      : `${records} records per run in batches of ${BATCH_SIZE}, each batch awaited before the next (acks=all, idempotent, murmur2 on ${valueBytes} B wire values with evkit's CloudEvents headers), to a fresh ${PARTITIONS}-partition topic. Java: ProducerPerformance with batch.size for ${BATCH_SIZE} records, linger.ms=5, asynchronous (up to 5 requests in flight), null keys, no headers.`,
    kind: latency ? 'latency' : 'throughput',
    baseline: 'kafkajs-raw',
    variants: results,
    notes: [],
    profiles,
  };
}
