import { CONSUMER_VARIANTS } from '../clients/consumers';
import { interleave, type Variant } from '../harness/interleave';
import type { ConsumerVariantId, ConsumeRun, WorkerSpec } from '../harness/protocol';
import { functionVariant, nodeVariant, startAll } from '../harness/variants';
import { PARTITIONS } from '../settings';
import { profilable, profileScenarioVariants, selected, workerRuntime, type ScenarioContext, type ScenarioResult } from './types';

const VALUE_BYTES = 1024;
const JAVA = { id: 'java', label: 'Java ConsumerPerformance', what: 'org.apache.kafka.tools.ConsumerPerformance 4.1.1, fetch rate (group join excluded)' };

interface ConsumerScenario {
  id: string;
  title: string;
  records: number;
  variants: ConsumerVariantId[];
  java: boolean;
  profiled: ConsumerVariantId[];
  /** Each run starts with an empty processed-events table. */
  truncateDedupe: boolean;
}

export const consumerThroughput = (ctx: ScenarioContext): Promise<ScenarioResult> =>
  consumerScenario(ctx, {
    id: 'consumer-throughput',
    title: 'Consumer throughput, pre-filled topic, no-op handler',
    records: ctx.settings.consumerRecords,
    variants: [
      'kafkajs-raw',
      'kafkajs-decode',
      'confluent',
      'evkit-subscriber',
      'evkit-consumer',
      'evkit-dedupe-memory',
      'evkit-retry-armed',
      'platformatic-raw',
      'evkit-transport-platformatic',
      'evkit-consumer-platformatic',
    ],
    java: true,
    profiled: ['kafkajs-raw', 'evkit-consumer', 'evkit-consumer-platformatic'],
    truncateDedupe: false,
  });

export const consumerPgDedupe = (ctx: ScenarioContext): Promise<ScenarioResult> =>
  consumerScenario(ctx, {
    id: 'consumer-pg-dedupe',
    title: 'Consumer throughput with PostgreSQL dedupe',
    records: ctx.settings.pgDedupeRecords,
    variants: ['kafkajs-raw', 'evkit-consumer', 'evkit-dedupe-pg', 'evkit-dedupe-pg-retry-armed'],
    java: false,
    profiled: ['evkit-dedupe-pg'],
    truncateDedupe: true,
  });

async function consumerScenario(ctx: ScenarioContext, scenario: ConsumerScenario): Promise<ScenarioResult> {
  const { settings, resources, endpoints } = ctx;
  const { id, records } = scenario;
  const topic = resources.topic(id, 'prefilled');
  ctx.log(`${id}: pre-filling ${topic} with ${records} records of ${VALUE_BYTES} B`);
  await resources.prefill(topic, records, VALUE_BYTES, ctx.schemaId);
  const payload = (variant: string, rep: number | string): ConsumeRun => ({ topic, groupId: resources.topic(id, 'group', variant, rep), expected: records });
  const specOf = (variant: ConsumerVariantId): WorkerSpec => ({ kind: 'consumer', variant, dedupeTable: ctx.tables.dedupe });
  const beforeRun = scenario.truncateDedupe ? () => resources.truncate(ctx.tables.dedupe) : undefined;

  const factories: (() => Promise<Variant>)[] = selected(ctx, scenario.variants).map((variant) => () =>
    nodeVariant({
      id: variant,
      ...CONSUMER_VARIANTS[variant],
      spec: specOf(variant),
      endpoints,
      payload: (rep) => payload(variant, rep),
      ...(beforeRun ? { beforeRun } : {}),
      ...workerRuntime(ctx, variant),
    }),
  );
  if (scenario.java && selected(ctx, ['java']).length > 0) {
    const java = functionVariant(JAVA.id, JAVA.label, JAVA.what, (rep) =>
      ctx.java.consumerPerformance({ topic, groupId: resources.topic(id, 'group', 'java', rep), records }),
    );
    factories.unshift(() => Promise.resolve(java));
  }
  const results = await interleave(await startAll(factories), settings, ctx.log);

  const profiles = await profileScenarioVariants(ctx, profilable(ctx, scenario.profiled), { scenario: id, specOf, payload, ...(beforeRun ? { beforeRun } : {}) });

  return {
    id,
    title: scenario.title,
    description:
      `${records} records of ${VALUE_BYTES} B (evkit's CloudEvents headers, Avro in the Confluent wire format, unique event ids) pre-filled in one ` +
      `${PARTITIONS}-partition topic; every run reads all of them from the start in a new consumer group. Timed from the first record handled to the last ` +
      `(group join excluded, as in ConsumerPerformance's fetch rate).` +
      (scenario.truncateDedupe ? ' The processed-events table is emptied before each run.' : ''),
    kind: 'throughput',
    baseline: 'kafkajs-raw',
    variants: results,
    notes: [],
    profiles,
  };
}
