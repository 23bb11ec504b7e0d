import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { createLocalStack } from '@evkit/stack';
import { transportContract } from '@evkit/testkit';
import { TransportConnectError, TransportSendError } from '@evkit/transport';
import { createKafkaJsPublisher, createKafkaJsSubscriber } from '@evkit/transport-kafkajs';

const { endpoints } = createLocalStack();
const brokers = endpoints.kafkaBrokers;

// Short group timings keep rebalances to about a second: the broker's minimum session timeout
// is 6 s, heartbeats every 500 ms, and an idle fetch returns after 100 ms.
const fastGroup = { sessionTimeout: 6_000, heartbeatInterval: 500, rebalanceTimeout: 10_000, maxWaitTimeInMs: 100, redeliveryDelayMs: 100 };

transportContract(
  'KafkaJS',
  async () => {
    const kafka = new Kafka({ clientId: 'evkit-it-contract', brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const created: string[] = [];
    return {
      async createTopic(topic, partitions) {
        await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
        created.push(topic);
      },
      publisher: () => createKafkaJsPublisher({ brokers, clientId: 'evkit-it-publisher', logLevel: logLevel.NOTHING }),
      subscriber: ({ onError }) => createKafkaJsSubscriber({ brokers, clientId: 'evkit-it-subscriber', logLevel: logLevel.NOTHING, ...fastGroup, onError }),
      async close() {
        await admin.deleteTopics({ topics: created });
        await admin.disconnect();
      },
    };
  },
  { stepTimeoutMs: 15_000, testTimeoutMs: 40_000 },
);

describe('KafkaJS transport against an unreachable broker', () => {
  // Nothing listens on port 1; one quick retry keeps the failure fast.
  const unreachable = { brokers: ['127.0.0.1:1'], connectionTimeout: 300, retry: { retries: 1, initialRetryTime: 50, maxRetryTime: 100 }, logLevel: logLevel.NOTHING };

  it('fails a send with a typed retriable error', async () => {
    const publisher = createKafkaJsPublisher(unreachable);
    const sending = publisher.send([{ topic: `evkit.it.unreachable.${randomUUID()}`, key: 'k', value: Buffer.from('v'), headers: {} }]);
    await expect(sending).rejects.toBeInstanceOf(TransportSendError);
    await expect(sending).rejects.toMatchObject({ code: 'EVKIT_TRANSPORT_SEND_FAILED', retriable: true });
    await publisher.disconnect();
  });

  it('fails connect and run with a typed retriable connection error', async () => {
    await expect(createKafkaJsPublisher(unreachable).connect()).rejects.toMatchObject({ code: 'EVKIT_TRANSPORT_CONNECT_FAILED', retriable: true });
    const subscriber = createKafkaJsSubscriber({ ...unreachable, onError: () => {} });
    await expect(subscriber.connect()).rejects.toBeInstanceOf(TransportConnectError);
    await expect(
      subscriber.run({ groupId: `evkit-it-${randomUUID()}`, topics: ['evkit.it.unreachable'], handleBatch: () => Promise.resolve() }),
    ).rejects.toMatchObject({ code: 'EVKIT_TRANSPORT_CONNECT_FAILED', retriable: true });
    await subscriber.disconnect();
  });
});
