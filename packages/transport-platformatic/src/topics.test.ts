import { ProtocolError, type Admin } from '@platformatic/kafka';
import { TransportTopicsError } from '@evkit/transport';
import { createTopicsAndWait, ensureTopics } from './topics';

// The @platformatic/kafka admin calls behind ensureTopicsWith (whose own tests cover the
// algorithm), on a fake admin; the contract suite runs the real thing.

function fakeAdmin(existing: Record<string, string | undefined> = {}) {
  const limits = new Map(Object.entries(existing));
  const looks = new Map<string, number>();
  const admin = {
    listTopics: jest.fn(() => Promise.resolve([...limits.keys()])),
    createTopics: jest.fn((options: { topics: string[]; configs: { name: string; value: string }[] }) => {
      const [topic] = options.topics as [string];
      if (limits.has(topic)) return Promise.reject(new ProtocolError('TOPIC_ALREADY_EXISTS'));
      limits.set(topic, options.configs.find((c) => c.name === 'max.message.bytes')?.value ?? '1048588');
      return Promise.resolve([]);
    }),
    // A new topic's partitions have no leader on the first look.
    metadata: jest.fn((options: { topics: string[] }) => {
      const topics = new Map(
        options.topics.map((name) => {
          const look = (looks.get(name) ?? 0) + 1;
          looks.set(name, look);
          return [name, { partitions: [{ leader: look > 1 ? 1 : -1 }, { leader: 1 }] }];
        }),
      );
      return Promise.resolve({ topics });
    }),
    describeConfigs: jest.fn((options: { resources: { resourceName: string }[] }) =>
      Promise.resolve(options.resources.map(({ resourceName }) => ({ resourceName, configs: [{ name: 'max.message.bytes', value: limits.get(resourceName) }] }))),
    ),
  };
  return { admin, limits, asAdmin: admin as unknown as Admin };
}

describe('ensureTopics (@platformatic/kafka)', () => {
  it('creates one topic per request with its own configs, and polls the metadata until every partition has a leader', async () => {
    const fake = fakeAdmin({ big: '4194304' });
    await ensureTopics(fake.asAdmin, ['plain', { topic: 'big.dlq', sizedLike: { topic: 'big', headroomBytes: 10 } }], {
      connect: () => Promise.resolve(),
      leaderTimeoutMs: 2_000,
    });
    expect(fake.admin.createTopics.mock.calls.map(([options]) => options)).toEqual([
      { topics: ['plain'], partitions: -1, replicas: -1, configs: [] },
      { topics: ['big.dlq'], partitions: -1, replicas: -1, configs: [{ name: 'max.message.bytes', value: '4194314' }] },
    ]);
    expect(fake.admin.metadata).toHaveBeenCalledWith({ topics: ['plain'], forceUpdate: true });
    expect(fake.admin.metadata).toHaveBeenCalledTimes(4);
  });

  it('takes a topic created meanwhile by another member as created, and passes partitions through', async () => {
    const fake = fakeAdmin({ raced: '1000' });
    await createTopicsAndWait(fake.asAdmin, [{ topic: 'raced' }, { topic: 'wide', partitions: 6 }], 2_000);
    expect(fake.admin.createTopics).toHaveBeenCalledWith({ topics: ['wide'], partitions: 6, replicas: -1, configs: [] });
  });

  it('refuses a source whose max.message.bytes it cannot read', async () => {
    const fake = fakeAdmin({ big: undefined });
    await expect(
      ensureTopics(fake.asAdmin, [{ topic: 'big.dlq', sizedLike: { topic: 'big', headroomBytes: 1 } }], { connect: () => Promise.resolve(), leaderTimeoutMs: 2_000 }),
    ).rejects.toThrow(new TransportTopicsError('topic big has no readable max.message.bytes'));
  });
});
