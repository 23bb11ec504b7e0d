import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { createAvroCodec } from '@evkit/codec';
import { createConsumer, type ConsumerOptions } from '@evkit/consumer';
import { createMemoryIdempotencyStore, createPostgresIdempotencyStore, type IdempotencyStore } from '@evkit/idempotency';
import { createFailureRouting } from '@evkit/retry';
import { createKafkaJsPublisher, createKafkaJsSubscriber } from '@evkit/transport-kafkajs';
import { EVENT_TYPE } from '../fixture';
import { measurement, type ConsumeRun, type ConsumerVariantId, type Endpoints, type Measurement } from '../harness/protocol';
import { loadConfluentKafka, loadConfluentSchemaRegistry } from '../optional-deps';
import { KAFKAJS_LOG_LEVEL, kafkaJsClient } from './kafkajs';
import { Progress } from './progress';

/** One way of consuming: each `consume` reads a topic from the start in a new group, then leaves it. */
export interface ConsumerClient {
  consume(run: ConsumeRun): Promise<Measurement>;
  close(): Promise<void>;
}

export const CONSUMER_VARIANTS: Record<ConsumerVariantId, { label: string; what: string }> = {
  'kafkajs-raw': { label: 'KafkaJS', what: 'kafkajs 2.2.4 `eachBatch`, a no-op async handler per message, KafkaJS auto-commit' },
  'kafkajs-decode': { label: 'KafkaJS + registry decode()', what: 'as above + @kafkajs/confluent-schema-registry `decode()` per message' },
  confluent: { label: 'Confluent client + deserializer', what: '@confluentinc/kafka-javascript (KafkaJS API) `eachBatch` + AvroDeserializer per message' },
  'evkit-subscriber': { label: 'evkit subscriber', what: '@evkit/transport-kafkajs subscriber, no-op per record, commit per batch' },
  'evkit-consumer': { label: 'evkit consumer', what: '@evkit/consumer: decode, envelope, routing, spans, no-op handler' },
  'evkit-dedupe-memory': { label: 'evkit consumer + memory dedupe', what: 'as above + in-memory idempotency store' },
  'evkit-retry-armed': { label: 'evkit + memory dedupe + retry/DLQ armed', what: 'as above + @evkit/retry failure routing wired (3 retry topics, DLQ), idle' },
  'evkit-dedupe-pg': {
    label: 'evkit consumer + PostgreSQL dedupe',
    what: '@evkit/consumer + PostgreSQL store, `dedupeBatching`: one transaction and one multi-row INSERT per partition batch',
  },
  'evkit-dedupe-pg-retry-armed': { label: 'evkit + PostgreSQL dedupe + retry/DLQ armed', what: 'as above + @evkit/retry failure routing wired, idle' },
};

/** Fetch settings of evkit's subscriber, given to raw KafkaJS too. */
const FETCH = { maxWaitTimeInMs: 500, maxBytesPerPartition: 1_048_576, maxBytes: 10_485_760, sessionTimeout: 30_000, heartbeatInterval: 3_000 };
const PARTITIONS_CONCURRENTLY = 3;
const noop = (_record: unknown): Promise<void> => Promise.resolve();

export function createConsumerClient(variant: ConsumerVariantId, endpoints: Endpoints, dedupeTable: string): ConsumerClient {
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
      return evkitSubscriber(endpoints);
    case 'evkit-consumer':
      return evkitConsumer(endpoints, {});
    case 'evkit-dedupe-memory':
      return evkitConsumer(endpoints, { store: () => createMemoryIdempotencyStore() });
    case 'evkit-retry-armed':
      return evkitConsumer(endpoints, { store: () => createMemoryIdempotencyStore(), retryArmed: true });
    case 'evkit-dedupe-pg':
    case 'evkit-dedupe-pg-retry-armed': {
      const store = createPostgresIdempotencyStore({ connectionString: endpoints.postgresUrl, table: dedupeTable });
      return evkitConsumer(endpoints, {
        store: () => store,
        dedupeBatching: true,
        retryArmed: variant === 'evkit-dedupe-pg-retry-armed',
        close: () => store.close(),
      });
    }
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

function evkitSubscriber(endpoints: Endpoints): ConsumerClient {
  return {
    async consume({ topic, groupId, expected }) {
      const subscriber = createKafkaJsSubscriber({ brokers: endpoints.brokers, clientId: 'bench-evkit', logLevel: KAFKAJS_LOG_LEVEL });
      const progress = new Progress(expected);
      await subscriber.run({
        groupId,
        topics: [topic],
        fromBeginning: true,
        async handleBatch(batch) {
          for (const record of batch.records) {
            await noop(record);
            progress.add();
          }
          const last = batch.records[batch.records.length - 1]!;
          await subscriber.commit({ topic: batch.topic, partition: batch.partition, offset: String(BigInt(last.offset) + 1n) });
        },
      });
      const { records, elapsedMs } = await progress.done;
      await subscriber.disconnect();
      return measurement(records, elapsedMs);
    },
    close: () => Promise.resolve(),
  };
}

interface EvkitLayers {
  /** The idempotency store of a run; none: no dedupe. */
  store?: () => IdempotencyStore;
  /** The consumer's `dedupeBatching` (a store that batches). */
  dedupeBatching?: boolean;
  /** Wire @evkit/retry's failure routing (retry topics, DLQ, middleware), which stays idle. */
  retryArmed?: boolean;
  close?: () => Promise<void>;
}

function evkitConsumer(endpoints: Endpoints, layers: EvkitLayers): ConsumerClient {
  // One codec for the worker: its caches are warm after the warm-up run, as in a running service.
  const codec = createAvroCodec({ registry: { url: endpoints.registryUrl } });
  const kafka = { brokers: endpoints.brokers, clientId: 'bench-evkit', logLevel: KAFKAJS_LOG_LEVEL };
  const publisher = layers.retryArmed ? createKafkaJsPublisher(kafka) : undefined;
  return {
    async consume({ topic, groupId, expected }) {
      const progress = new Progress(expected);
      const options: ConsumerOptions = {
        groupId,
        topics: [topic],
        codec,
        kafka,
        fromBeginning: true,
        ...(layers.store ? { idempotency: layers.store(), dedupeBatching: layers.dedupeBatching ?? false } : {}),
        ...(publisher ? { middleware: [createFailureRouting({ publisher, groupId }).middleware] } : {}),
      };
      const consumer = createConsumer(options).on(EVENT_TYPE, progress.handler);
      await consumer.start();
      const { records, elapsedMs } = await progress.done;
      await consumer.stop();
      return measurement(records, elapsedMs);
    },
    async close() {
      await publisher?.disconnect();
      await layers.close?.();
    },
  };
}
