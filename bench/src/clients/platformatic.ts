import { compatibilityPartitioner, Consumer, ProduceAcks, Producer, stringSerializer } from '@platformatic/kafka';
import { createPlatformaticPublisher, createPlatformaticSubscriber } from '@evkit/transport-platformatic';
import type { FixtureRecord } from '../fixture';
import { measurement, type ConsumerVariantId, type Endpoints, type PlatformaticVariantId, type ProducerVariantId } from '../harness/protocol';
import { Progress } from './progress';
import { FETCH, publisherClient, subscriberClient, type ConsumerClient, type ProducerClient } from './transport';

// The variants on @platformatic/kafka 2.x, loaded only by workers on Node >= 22.22: the raw
// client, the evkit transport on it, and full evkit (createEvkit with client: 'platformatic').
// Full evkit is imported when asked for, so the other two carry none of it.

const CLIENT_ID = 'bench-platformatic';

export async function createPlatformaticProducerClient(variant: Extract<ProducerVariantId, PlatformaticVariantId>, endpoints: Endpoints): Promise<ProducerClient> {
  switch (variant) {
    case 'platformatic-raw':
      return rawProducer(endpoints);
    case 'evkit-transport-platformatic':
      return publisherClient(createPlatformaticPublisher({ brokers: endpoints.brokers, clientId: CLIENT_ID }));
    case 'evkit-producer-platformatic': {
      const { benchEvkit, evkitProducerClient } = await import('./evkit.js');
      return evkitProducerClient(benchEvkit(endpoints, 'platformatic'));
    }
  }
}

export async function createPlatformaticConsumerClient(variant: Extract<ConsumerVariantId, PlatformaticVariantId>, endpoints: Endpoints): Promise<ConsumerClient> {
  switch (variant) {
    case 'platformatic-raw':
      return rawConsumer(endpoints);
    case 'evkit-transport-platformatic':
      return subscriberClient(() => createPlatformaticSubscriber({ brokers: endpoints.brokers, clientId: CLIENT_ID }));
    case 'evkit-consumer-platformatic': {
      const { benchEvkit, evkitConsumerClient } = await import('./evkit.js');
      return evkitConsumerClient(benchEvkit(endpoints, 'platformatic'), { retry: false });
    }
  }
}

/**
 * Configured as KafkaJS raw is: idempotent (one request in flight), acks=all, Java's murmur2
 * (the client's compatibility partitioner); string keys and headers go through the client's own
 * string serializer, as KafkaJS encodes them itself.
 */
function rawProducer(endpoints: Endpoints): ProducerClient {
  const producer = new Producer<string, Buffer, string, string>({
    clientId: CLIENT_ID,
    bootstrapBrokers: endpoints.brokers,
    idempotent: true,
    acks: ProduceAcks.ALL,
    partitioner: compatibilityPartitioner,
    autocreateTopics: false,
    serializers: { key: stringSerializer, value: (value?: Buffer) => value, headerKey: stringSerializer, headerValue: stringSerializer },
  });
  return {
    connect: async () => {
      await producer.initIdempotentProducer({});
    },
    prepare: () => Promise.resolve(),
    async send(topic, batch: readonly FixtureRecord[]) {
      await producer.send({ messages: batch.map(({ key, value, headers }) => ({ topic, key, value, headers: headers as Record<string, string> })) });
    },
    disconnect: () => producer.close(),
  };
}

/** A consumer per run (a new group), the fixture's fetch settings, a no-op async handler per message, the client's autocommit. */
function rawConsumer(endpoints: Endpoints): ConsumerClient {
  return {
    async consume({ topic, groupId, expected }) {
      const consumer = new Consumer({
        clientId: CLIENT_ID,
        bootstrapBrokers: endpoints.brokers,
        groupId,
        autocreateTopics: false,
        maxWaitTime: FETCH.maxWaitTimeInMs,
        maxBytes: FETCH.maxBytes,
        maxBytesPerPartition: FETCH.maxBytesPerPartition,
        sessionTimeout: FETCH.sessionTimeout,
        heartbeatInterval: FETCH.heartbeatInterval,
      });
      const progress = new Progress(expected);
      const stream = await consumer.consume({ topics: [topic], mode: 'committed', fallbackMode: 'earliest', autocommit: true });
      for await (const message of stream) {
        await progress.handler(message.value);
        if (progress.count >= expected) break;
      }
      const { records, elapsedMs } = await progress.done;
      await consumer.close(true);
      return measurement(records, elapsedMs);
    },
    close: () => Promise.resolve(),
  };
}
