import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { createAvroCodec } from '@evkit/codec';
import { createConsumer } from '@evkit/consumer';
import { createMemoryIdempotencyStore } from '@evkit/idempotency';
import { createKafkaJsSubscriber } from '@evkit/transport-kafkajs';
import { EVENT_TYPE } from '../fixture';
import { measurement, type ConsumerVariantId, type Endpoints, type PlatformaticVariantId } from '../harness/protocol';
import { loadConfluentKafka, loadConfluentSchemaRegistry } from '../optional-deps';
import { benchEvkit, benchEvkitWithPostgres, evkitConsumerClient } from './evkit';
import { KAFKAJS_LOG_LEVEL, kafkaJsClient } from './kafkajs';
import { Progress } from './progress';
import { FETCH, subscriberClient, type ConsumerClient } from './transport';

export const CONSUMER_VARIANTS: Record<ConsumerVariantId, { label: string; what: string }> = {
  'kafkajs-raw': { label: 'KafkaJS', what: 'kafkajs 2.2.4 `eachBatch`, a no-op async handler per message, KafkaJS auto-commit' },
  'kafkajs-decode': { label: 'KafkaJS + registry decode()', what: 'as above + @kafkajs/confluent-schema-registry `decode()` per message' },
  confluent: { label: 'Confluent client + deserializer', what: '@confluentinc/kafka-javascript (KafkaJS API) `eachBatch` + AvroDeserializer per message' },
  'evkit-subscriber': { label: 'evkit subscriber', what: '@evkit/transport-kafkajs subscriber, no-op per record, commit per batch' },
  'evkit-consumer': {
    label: 'evkit consumer',
    what: 'createEvkit (@evkit/service) `consumer(...).on`, `retry: false`: decode, envelope, routing, spans, no-op handler',
  },
  'evkit-dedupe-memory': {
    label: 'evkit consumer + memory dedupe',
    what: '@evkit/consumer (createConsumer: createEvkit dedupes in PostgreSQL only) + in-memory idempotency store',
  },
  'evkit-retry-armed': {
    label: 'evkit consumer + retry/DLQ armed',
    what: 'createEvkit consumer with its default retry (3 retry topics, DLQ, created at start), idle',
  },
  'evkit-dedupe-pg': {
    label: 'evkit consumer + PostgreSQL dedupe',
    what: 'createEvkit with `postgres`, consumer `dedupe: true`, `dedupeBatching`, `retry: false`: one transaction and one multi-row INSERT per partition batch',
  },
  'evkit-dedupe-pg-retry-armed': { label: 'evkit + PostgreSQL dedupe + retry/DLQ armed', what: 'as above with createEvkit\'s default retry (retry topics, DLQ), idle' },
  'platformatic-raw': {
    label: '@platformatic/kafka',
    what: '@platformatic/kafka 2.x consumer stream (fetch settings as KafkaJS), a no-op async handler per message, its autocommit (Node 22)',
  },
  'evkit-transport-platformatic': { label: 'evkit subscriber on platformatic', what: '@evkit/transport-platformatic subscriber, no-op per record, commit per batch (Node 22)' },
  'evkit-consumer-platformatic': {
    label: 'evkit consumer on platformatic',
    what: 'as evkit consumer, createEvkit with the @evkit/transport-platformatic subscriber (Node 22)',
  },
};

const PARTITIONS_CONCURRENTLY = 3;
const noop = (_record: unknown): Promise<void> => Promise.resolve();

/** The variants on KafkaJS and Confluent; the platformatic ones are in ./platformatic (Node 22 workers). */
export function createConsumerClient(variant: Exclude<ConsumerVariantId, PlatformaticVariantId>, endpoints: Endpoints, dedupeTable: string): ConsumerClient {
  switch (variant) {
    case 'kafkajs-raw':
      return kafkaJsConsumer(endpoints, (value) => noop(value));
    case 'kafkajs-decode': {
      const registry = new SchemaRegistry({ host: endpoints.registryUrl });
      return kafkaJsConsumer(endpoints, (value) => registry.decode(value));
    }
    case 'confluent':
      return confluentConsumer(endpoints);
    case 'evkit-subscriber':
      return subscriberClient(() => createKafkaJsSubscriber({ brokers: endpoints.brokers, clientId: 'bench-evkit', logLevel: KAFKAJS_LOG_LEVEL }));
    case 'evkit-consumer':
      return evkitConsumerClient(benchEvkit(endpoints), { retry: false });
    case 'evkit-dedupe-memory':
      return memoryDedupeConsumer(endpoints);
    case 'evkit-retry-armed':
      return evkitConsumerClient(benchEvkit(endpoints), { retry: {} });
    case 'evkit-dedupe-pg':
    case 'evkit-dedupe-pg-retry-armed':
      return evkitConsumerClient(benchEvkitWithPostgres(endpoints, { processedEventsTable: dedupeTable }), { retry: variant === 'evkit-dedupe-pg-retry-armed' ? {} : false, dedupe: true });
  }
}

function kafkaJsConsumer(endpoints: Endpoints, handle: (value: Buffer) => Promise<unknown>): ConsumerClient {
  const kafka = kafkaJsClient(endpoints, 'bench-kafkajs');
  return {
    async consume({ topic, groupId, expected }) {
      const consumer = kafka.consumer({ groupId, ...FETCH });
      const progress = new Progress(expected);
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        partitionsConsumedConcurrently: PARTITIONS_CONCURRENTLY,
        eachBatch: async ({ batch }) => {
          for (const message of batch.messages) {
            await handle(message.value!);
            progress.add();
          }
        },
      });
      const { records, elapsedMs } = await progress.done;
      await consumer.disconnect();
      return measurement(records, elapsedMs);
    },
    close: () => Promise.resolve(),
  };
}

function confluentConsumer(endpoints: Endpoints): ConsumerClient {
  const kafkaModule = loadConfluentKafka();
  const registryModule = loadConfluentSchemaRegistry();
  if (!kafkaModule.ok) throw new Error(kafkaModule.reason);
  if (!registryModule.ok) throw new Error(registryModule.reason);
  const { Kafka, logLevel } = kafkaModule.module.KafkaJS;
  const { SchemaRegistryClient, AvroDeserializer } = registryModule.module;
  const deserializer = new AvroDeserializer(new SchemaRegistryClient({ baseURLs: [endpoints.registryUrl] }), 'VALUE', {});
  const kafka = new Kafka({ kafkaJS: { brokers: endpoints.brokers, clientId: 'bench-confluent', logLevel: logLevel.ERROR } });
  return {
    async consume({ topic, groupId, expected }) {
      const consumer = kafka.consumer({ kafkaJS: { groupId, fromBeginning: true } });
      const progress = new Progress(expected);
      await consumer.connect();
      await consumer.subscribe({ topics: [topic] });
      await consumer.run({
        eachBatch: async ({ batch }) => {
          for (const message of batch.messages) {
            await deserializer.deserialize(batch.topic, message.value!);
            progress.add();
          }
        },
      });
      const { records, elapsedMs } = await progress.done;
      await consumer.disconnect();
      return measurement(records, elapsedMs);
    },
    close: () => Promise.resolve(),
  };
}

/** createEvkit dedupes in PostgreSQL only: the in-memory store goes through createConsumer, one new store per run. */
function memoryDedupeConsumer(endpoints: Endpoints): ConsumerClient {
  // One codec for the worker: its caches are warm after the warm-up run, as in a running service.
  const codec = createAvroCodec({ registry: { url: endpoints.registryUrl } });
  const kafka = { brokers: endpoints.brokers, clientId: 'bench-evkit', logLevel: KAFKAJS_LOG_LEVEL };
  return {
    async consume({ topic, groupId, expected }) {
      const progress = new Progress(expected);
      const consumer = createConsumer({ groupId, topics: [topic], codec, kafka, fromBeginning: true, idempotency: createMemoryIdempotencyStore() }).on(
        EVENT_TYPE,
        progress.handler,
      );
      await consumer.start();
      const { records, elapsedMs } = await progress.done;
      await consumer.stop();
      return measurement(records, elapsedMs);
    },
    close: () => Promise.resolve(),
  };
}
