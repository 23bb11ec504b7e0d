import { randomUUID } from 'node:crypto';
import { Admin, ConfigResourceTypes } from '@platformatic/kafka';
import { createLocalStack } from '@evkit/stack';
import { transportContract } from '@evkit/testkit';
import { TransportConnectError, TransportSendError } from '@evkit/transport';
import { createPlatformaticPublisher, createPlatformaticSubscriber, createTopicsAndWait } from '@evkit/transport-platformatic';

const { endpoints } = createLocalStack();
const brokers = endpoints.kafkaBrokers;

// Short group timings keep rebalances to about a second: the broker's minimum session timeout
// is 6 s, heartbeats every 500 ms, and an idle fetch returns after 100 ms.
const fastGroup = { sessionTimeout: 6_000, heartbeatInterval: 500, rebalanceTimeout: 10_000, maxWaitTimeInMs: 100, redeliveryDelayMs: 100 };

const newAdmin = (clientId: string) => new Admin({ clientId, bootstrapBrokers: brokers });

transportContract(
  '@platformatic/kafka',
  () => {
    const admin = newAdmin('evkit-it-contract');
    const created: string[] = [];
    return {
      async createTopic(topic, partitions) {
        await createTopicsAndWait(admin, [{ topic, partitions }]);
        created.push(topic);
      },
      publisher: () => createPlatformaticPublisher({ brokers, clientId: 'evkit-it' }),
      subscriber: ({ onError }) => createPlatformaticSubscriber({ brokers, clientId: 'evkit-it', ...fastGroup, onError }),
      async close() {
        if (created.length > 0) await admin.deleteTopics({ topics: created });
        await admin.close();
      },
    };
  },
  {
    stepTimeoutMs: 15_000,
    testTimeoutMs: 40_000,
    network: {
      broker: brokers[0]!,
      publisher: (bootstrap) => createPlatformaticPublisher({ brokers: bootstrap, clientId: 'evkit-it', retries: 2, retryDelay: 100 }),
    },
  },
);

describe('@platformatic/kafka ensureTopics', () => {
  it('creates missing topics, one sized like its source, with a leader for every partition once it resolves', async () => {
    const admin = newAdmin('evkit-it-topics');
    const source = `evkit.it.topics.${randomUUID()}`;
    const [plain, sized] = [`${source}.plain`, `${source}.sized`];
    const limit = 3 * 1024 * 1024;
    await createTopicsAndWait(admin, [{ topic: source, configs: [{ name: 'max.message.bytes', value: String(limit) }] }]);
    const subscriber = createPlatformaticSubscriber({ brokers, clientId: 'evkit-it-topics' });
    try {
      const specs = [plain, { topic: sized, sizedLike: { topic: source, headroomBytes: 1000 } }];
      await subscriber.ensureTopics(specs);
      const metadata = await admin.metadata({ topics: [plain, sized], forceUpdate: true });
      expect([plain, sized].flatMap((t) => metadata.topics.get(t)!.partitions).every((p) => p.leader >= 0)).toBe(true);
      const resources = await admin.describeConfigs({
        resources: [plain, sized].map((resourceName) => ({ resourceType: ConfigResourceTypes.TOPIC, resourceName, configurationKeys: ['max.message.bytes'] })),
      });
      const limitOf = (topic: string) => Number(resources.find((r) => r.resourceName === topic)!.configs[0]!.value);
      expect(limitOf(sized)).toBe(limit + 1000);
      expect(limitOf(plain)).toBeLessThan(limit); // the broker's default
      await expect(subscriber.ensureTopics(specs)).resolves.toBeUndefined(); // existing ones are left alone
    } finally {
      await subscriber.disconnect();
      await admin.deleteTopics({ topics: [source, plain, sized] });
      await admin.close();
    }
  }, 60_000);
});

describe('@platformatic/kafka publisher', () => {
  it('spreads keyless records over the partitions and keeps repeated headers, at the positions it returned', async () => {
    const admin = newAdmin('evkit-it-keyless');
    const topic = `evkit.it.keyless.${randomUUID()}`;
    await createTopicsAndWait(admin, [{ topic, partitions: 3 }]);
    const publisher = createPlatformaticPublisher({ brokers, clientId: 'evkit-it-keyless' });
    const subscriber = createPlatformaticSubscriber({ brokers, clientId: 'evkit-it-keyless', ...fastGroup });
    try {
      const positions = await publisher.send(
        Array.from({ length: 6 }, (_, i) => ({ topic, key: null, value: Buffer.from(`v${i}`), headers: { tag: ['a', Buffer.from([i])] } })),
      );
      expect(positions.map((p) => p.partition).sort()).toEqual([0, 0, 1, 1, 2, 2]);
      const seen = new Map<string, { value: string; tag: unknown }>();
      await subscriber.run({
        groupId: `evkit-it-${randomUUID()}`,
        topics: [topic],
        fromBeginning: true,
        handleBatch: async (batch) => {
          for (const r of batch.records) seen.set(`${r.partition}/${r.offset}`, { value: r.value!.toString(), tag: r.headers.tag });
        },
      });
      const deadline = Date.now() + 15_000;
      while (seen.size < 6 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      positions.forEach((p, i) => expect(seen.get(`${p.partition}/${p.offset}`)).toEqual({ value: `v${i}`, tag: [Buffer.from('a'), Buffer.from([i])] }));
    } finally {
      await subscriber.disconnect();
      await publisher.disconnect();
      await admin.deleteTopics({ topics: [topic] });
      await admin.close();
    }
  }, 60_000);
});

describe('@platformatic/kafka transport against an unreachable broker', () => {
  // Nothing listens on port 1; two quick retries keep the failure fast.
  const unreachable = { brokers: ['127.0.0.1:1'], connectTimeout: 300, retries: 2, retryDelay: 50 };

  it('fails a send with a typed retriable error', async () => {
    const publisher = createPlatformaticPublisher(unreachable);
    const sending = publisher.send([{ topic: `evkit.it.unreachable.${randomUUID()}`, key: 'k', value: Buffer.from('v'), headers: {} }]);
    await expect(sending).rejects.toBeInstanceOf(TransportSendError);
    await expect(sending).rejects.toMatchObject({ code: 'EVKIT_TRANSPORT_SEND_FAILED', retriable: true, outcomeUnknown: false });
    await publisher.disconnect();
  });

  it('fails connect and run with a typed retriable connection error', async () => {
    await expect(createPlatformaticPublisher(unreachable).connect()).rejects.toMatchObject({ code: 'EVKIT_TRANSPORT_CONNECT_FAILED', retriable: true });
    const subscriber = createPlatformaticSubscriber({ ...unreachable, onError: () => {} });
    await expect(subscriber.connect()).rejects.toBeInstanceOf(TransportConnectError);
    await expect(
      subscriber.run({ groupId: `evkit-it-${randomUUID()}`, topics: ['evkit.it.unreachable'], handleBatch: () => Promise.resolve() }),
    ).rejects.toMatchObject({ code: 'EVKIT_TRANSPORT_CONNECT_FAILED', retriable: true });
    await subscriber.disconnect();
  });
});
