import { randomUUID } from 'node:crypto';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { createLocalStack } from '@evkit/stack';
import { transportContract } from '@evkit/testkit';
import { TransportConnectError, TransportSendError } from '@evkit/transport';
import { createKafkaJsPublisher, createKafkaJsSubscriber, createTopicsAndWait } from '@evkit/transport-kafkajs';

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
        await createTopicsAndWait(admin, [{ topic, numPartitions: partitions }]);
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
  {
    stepTimeoutMs: 15_000,
    testTimeoutMs: 40_000,
    network: {
      broker: brokers[0]!,
      publisher: (bootstrap) =>
        createKafkaJsPublisher({
          brokers: bootstrap,
          clientId: 'evkit-it-publisher',
          logLevel: logLevel.NOTHING,
          retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 300 },
        }),
    },
  },
);

describe('KafkaJS ensureTopics', () => {
  it('creates missing topics, one sized like its source, with a leader for every partition once it resolves', async () => {
    const kafka = new Kafka({ clientId: 'evkit-it-topics', brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const source = `evkit.it.topics.${randomUUID()}`;
    const [plain, sized] = [`${source}.plain`, `${source}.sized`];
    const limit = 3 * 1024 * 1024;
    await createTopicsAndWait(admin, [{ topic: source, configEntries: [{ name: 'max.message.bytes', value: String(limit) }] }]);
    const subscriber = createKafkaJsSubscriber({ brokers, clientId: 'evkit-it-topics', logLevel: logLevel.NOTHING });
    try {
      const specs = [plain, { topic: sized, sizedLike: { topic: source, headroomBytes: 1000 } }];
      await subscriber.ensureTopics(specs);
      const metadata = await admin.fetchTopicMetadata({ topics: [plain, sized] });
      expect(metadata.topics.flatMap((t) => t.partitions).every((p) => p.leader >= 0)).toBe(true);
      const { resources } = await admin.describeConfigs({
        resources: [plain, sized].map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['max.message.bytes'] })),
        includeSynonyms: false,
      });
      const [plainLimit, sizedLimit] = resources.map((r) => Number(r.configEntries[0]!.configValue));
      expect(sizedLimit).toBe(limit + 1000);
      expect(plainLimit).toBeLessThan(limit); // the broker's default
      await expect(subscriber.ensureTopics(specs)).resolves.toBeUndefined(); // existing ones are left alone
    } finally {
      await subscriber.disconnect();
      await admin.deleteTopics({ topics: [source, plain, sized] });
      await admin.disconnect();
    }
  }, 60_000);
});

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
