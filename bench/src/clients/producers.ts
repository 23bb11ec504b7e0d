import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { Partitioners } from 'kafkajs';
import { createEvent, toBinaryRecord } from '@evkit/envelope';
import { createKafkaJsPublisher } from '@evkit/transport-kafkajs';
import { AVRO_CONTENT_TYPE, EVENT_SOURCE, EVENT_TYPE, handWrittenHeaders, ORDER_SCHEMA_TEXT, type FixtureRecord } from '../fixture';
import type { Endpoints, PlatformaticVariantId, ProducerVariantId } from '../harness/protocol';
import { loadConfluentKafka, loadConfluentSchemaRegistry } from '../optional-deps';
import { benchEvkit, evkitProducerClient } from './evkit';
import { KAFKAJS_LOG_LEVEL, kafkaJsClient, subjectOf } from './kafkajs';
import { publisherClient, type ProducerClient } from './transport';

// Every producer variant is idempotent with acks=all and partitions keys with Java's murmur2.

export const PRODUCER_VARIANTS: Record<ProducerVariantId, { label: string; what: string }> = {
  'kafkajs-raw': { label: 'KafkaJS, pre-encoded', what: 'kafkajs 2.2.4 `send` of the pre-encoded records (value bytes and headers ready)' },
  'kafkajs-encode': {
    label: 'KafkaJS + registry encode()',
    what: 'kafkajs + @kafkajs/confluent-schema-registry `encode()` per message, CloudEvents headers written by hand',
  },
  confluent: {
    label: 'Confluent client + serializer',
    what: '@confluentinc/kafka-javascript (KafkaJS API, librdkafka defaults: linger.ms 5) + @confluentinc/schemaregistry AvroSerializer per message',
  },
  'confluent-linger0': {
    label: 'Confluent client (linger.ms 0) + serializer',
    what: 'as above with linger.ms=0: librdkafka sends at once instead of waiting 5 ms for more records, as KafkaJS does',
  },
  'evkit-transport': { label: 'evkit transport', what: '@evkit/transport-kafkajs publisher, pre-encoded records' },
  'evkit-envelope': { label: 'evkit transport + envelope', what: 'createEvent + toBinaryRecord per record, pre-encoded value, then the publisher' },
  'evkit-producer': {
    label: 'evkit producer',
    what: 'createEvkit (@evkit/service) `publish` per record, a batch published at once: envelope, Avro codec (warm cache), spans, the KafkaJS publisher (coalescing)',
  },
  'platformatic-raw': {
    label: '@platformatic/kafka, pre-encoded',
    what: '@platformatic/kafka 2.x `send` of the pre-encoded records: idempotent, acks=all, its Java-compatible partitioner (Node 22)',
  },
  'evkit-transport-platformatic': { label: 'evkit transport on platformatic', what: '@evkit/transport-platformatic publisher, pre-encoded records (Node 22)' },
  'evkit-producer-platformatic': {
    label: 'evkit producer on platformatic',
    what: 'as evkit producer, createEvkit with the @evkit/transport-platformatic publisher (Node 22)',
  },
};

/** The variants on KafkaJS and Confluent; the platformatic ones are in ./platformatic (Node 22 workers). */
export function createProducerClient(variant: Exclude<ProducerVariantId, PlatformaticVariantId>, endpoints: Endpoints): ProducerClient {
  switch (variant) {
    case 'kafkajs-raw':
      return kafkaJsProducer(endpoints, (_topic, batch) => Promise.resolve(batch));
    case 'kafkajs-encode':
      return kafkaJsEncodingProducer(endpoints);
    case 'confluent':
      return confluentProducer(endpoints, {});
    case 'confluent-linger0':
      return confluentProducer(endpoints, { 'linger.ms': 0 });
    case 'evkit-transport':
      return publisherClient(evkitPublisher(endpoints));
    case 'evkit-envelope':
      return publisherClient(evkitPublisher(endpoints), (topic, batch) =>
        batch.map((record) => {
          const event = createEvent({ source: EVENT_SOURCE, type: EVENT_TYPE, partitionkey: record.key, datacontenttype: AVRO_CONTENT_TYPE, data: undefined });
          return { topic, ...toBinaryRecord(event, record.value) };
        }),
      );
    case 'evkit-producer':
      return evkitProducerClient(benchEvkit(endpoints));
  }
}

type Messages = { key: string; value: Buffer; headers: FixtureRecord['headers'] }[];

/** KafkaJS configured as evkit's publisher is: idempotent, one request in flight, acks=all, murmur2. */
function kafkaJsProducer(
  endpoints: Endpoints,
  messagesOf: (topic: string, batch: readonly FixtureRecord[]) => Promise<readonly Messages[number][]>,
  prepare: (topic: string) => Promise<void> = () => Promise.resolve(),
): ProducerClient {
  const producer = kafkaJsClient(endpoints, 'bench-kafkajs').producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  return {
    connect: () => producer.connect(),
    prepare,
    async send(topic, batch) {
      await producer.send({ topic, acks: -1, messages: [...(await messagesOf(topic, batch))] });
    },
    disconnect: () => producer.disconnect(),
  };
}

function kafkaJsEncodingProducer(endpoints: Endpoints): ProducerClient {
  const registry = new SchemaRegistry({ host: endpoints.registryUrl });
  const ids = new Map<string, number>();
  return kafkaJsProducer(
    endpoints,
    (topic, batch) => {
      const id = ids.get(topic)!;
      return Promise.all(batch.map(async ({ key, data }) => ({ key, value: await registry.encode(id, data), headers: handWrittenHeaders(key) })));
    },
    async (topic) => {
      const { id } = await registry.register({ type: SchemaType.AVRO, schema: ORDER_SCHEMA_TEXT }, { subject: subjectOf(topic) });
      ids.set(topic, id);
    },
  );
}

function confluentProducer(endpoints: Endpoints, librdkafka: Record<string, unknown>): ProducerClient {
  const kafkaModule = loadConfluentKafka();
  const registryModule = loadConfluentSchemaRegistry();
  if (!kafkaModule.ok) throw new Error(kafkaModule.reason);
  if (!registryModule.ok) throw new Error(registryModule.reason);
  const { Kafka, logLevel } = kafkaModule.module.KafkaJS;
  const { SchemaRegistryClient, AvroSerializer } = registryModule.module;
  const registry = new SchemaRegistryClient({ baseURLs: [endpoints.registryUrl] });
  const serializer = new AvroSerializer(registry, 'VALUE', { useLatestVersion: true });
  const producer = new Kafka({ kafkaJS: { brokers: endpoints.brokers, clientId: 'bench-confluent', logLevel: logLevel.ERROR } }).producer({
    kafkaJS: { idempotent: true, acks: -1 },
    // librdkafka's default (consistent_random, CRC32) is not Java's: set murmur2 like the others.
    partitioner: 'murmur2_random',
    ...librdkafka,
  });
  return {
    connect: () => producer.connect(),
    async prepare(topic) {
      await registry.register(subjectOf(topic), { schemaType: 'AVRO', schema: ORDER_SCHEMA_TEXT });
      await serializer.serialize(topic, { orderId: 'warm-up', customerId: 'c', amountCents: 1, currency: 'EUR', note: '' });
    },
    async send(topic, batch) {
      const messages = await Promise.all(
        batch.map(async ({ key, data }) => ({ key, value: await serializer.serialize(topic, data), headers: handWrittenHeaders(key) })),
      );
      await producer.send({ topic, messages });
    },
    disconnect: () => producer.disconnect(),
  };
}

const evkitPublisher = (endpoints: Endpoints) => createKafkaJsPublisher({ brokers: endpoints.brokers, clientId: 'bench-evkit', logLevel: KAFKAJS_LOG_LEVEL });
