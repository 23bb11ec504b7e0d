import { ConfigResourceTypes, type Admin, type ITopicConfig, type PartitionMetadata } from 'kafkajs';
import { TransportConfigError, TransportTopicsError } from '@evkit/transport';
import { ensureTopics } from './topics';

// KafkaJS's admin replaced by a fake cluster: topics with a max.message.bytes and partitions
// whose leader a test decides. The contract and retry integration suites run the real thing.

interface FakeTopic {
  maxMessageBytes: number;
  leaders: number[];
}

function fakeAdmin(initial: Record<string, FakeTopic> = {}) {
  const topics = new Map(Object.entries(initial));
  const created: ITopicConfig[][] = [];
  let newLeader = 1;
  const admin = {
    listTopics: jest.fn(() => Promise.resolve([...topics.keys()])),
    createTopics: jest.fn((options: { topics: ITopicConfig[]; waitForLeaders?: boolean }) => {
      created.push(options.topics);
      for (const { topic, configEntries } of options.topics) {
        const size = configEntries?.find((entry) => entry.name === 'max.message.bytes')?.value;
        topics.set(topic, { maxMessageBytes: Number(size ?? 1_048_588), leaders: [-1, -1] });
      }
      return Promise.resolve(true);
    }),
    describeConfigs: jest.fn((options: { resources: { name: string }[] }) =>
      Promise.resolve({
        resources: options.resources.map(({ name }) => ({
          resourceName: name,
          errorCode: 0,
          errorMessage: null,
          configEntries: [{ configName: 'max.message.bytes', configValue: String(topics.get(name)!.maxMessageBytes) }],
        })),
      }),
    ),
    // Leaders appear on the second look, as right after a creation.
    fetchTopicMetadata: jest.fn((options: { topics: string[] }) => {
      const answer = {
        topics: options.topics.map((name) => ({
          name,
          partitions: topics.get(name)!.leaders.map((leader, partitionId) => ({ partitionId, leader }) as PartitionMetadata),
        })),
      };
      for (const name of options.topics) topics.get(name)!.leaders = topics.get(name)!.leaders.map(() => newLeader);
      return Promise.resolve(answer);
    }),
  };
  return {
    admin,
    topics,
    created,
    /** Partitions created from now on never get a leader. */
    noLeaders: () => void (newLeader = -1),
  };
}

const run = (fake: ReturnType<typeof fakeAdmin>, topics: Parameters<typeof ensureTopics>[1], leaderTimeoutMs = 2000) =>
  ensureTopics(fake.admin as unknown as Admin, topics, { connect: () => Promise.resolve(), leaderTimeoutMs });

describe('ensureTopics (KafkaJS)', () => {
  it('creates what is missing without waitForLeaders, then waits until every partition has a leader', async () => {
    const fake = fakeAdmin({ old: { maxMessageBytes: 1000, leaders: [1] } });
    await run(fake, ['old', 'new']);
    expect(fake.admin.createTopics).toHaveBeenCalledTimes(1);
    expect(fake.admin.createTopics.mock.calls[0]![0]).toEqual({ topics: [{ topic: 'new' }], waitForLeaders: false });
    expect(fake.admin.fetchTopicMetadata).toHaveBeenCalledTimes(2);
    expect(fake.topics.get('new')!.leaders).toEqual([1, 1]);
  });

  it('asks KafkaJS for the source max.message.bytes and creates the sized topic with configEntries', async () => {
    const fake = fakeAdmin({ big: { maxMessageBytes: 4_194_304, leaders: [1] } });
    await run(fake, [{ topic: 'big.dlq', sizedLike: { topic: 'big', headroomBytes: 65_536 } }]);
    expect(fake.admin.describeConfigs).toHaveBeenCalledWith({ resources: [{ type: ConfigResourceTypes.TOPIC, name: 'big', configNames: ['max.message.bytes'] }], includeSynonyms: false });
    expect(fake.admin.createTopics).toHaveBeenCalledWith({ topics: [{ topic: 'big.dlq', configEntries: [{ name: 'max.message.bytes', value: '4259840' }] }], waitForLeaders: false });
    // The ordering of plain and sized topics, and existing ones left alone: ensureTopicsWith's tests.
  });

  it('puts KafkaJS own reason in the error when a source has no readable max.message.bytes', async () => {
    const fake = fakeAdmin({ big: { maxMessageBytes: 1000, leaders: [1] } });
    fake.admin.describeConfigs.mockResolvedValueOnce({ resources: [{ resourceName: 'big', errorCode: 29, errorMessage: 'Topic authorization failed', configEntries: [] }] } as never);
    await expect(run(fake, [{ topic: 'big.dlq', sizedLike: { topic: 'big', headroomBytes: 1 } }])).rejects.toMatchObject({
      code: 'EVKIT_TRANSPORT_TOPICS_FAILED',
      retriable: false,
      message: 'topic big has no readable max.message.bytes (Topic authorization failed)',
    });
  });

  it('fails with a retriable TransportTopicsError when a new partition has no leader in time', async () => {
    const fake = fakeAdmin();
    fake.noLeaders();
    const failure = run(fake, ['t'], 300);
    await expect(failure).rejects.toBeInstanceOf(TransportTopicsError);
    await expect(failure).rejects.toMatchObject({
      code: 'EVKIT_TRANSPORT_TOPICS_FAILED',
      retriable: true,
      message: 'partitions of t had no leader 300 ms after their creation',
    });
  });

  it('keeps polling through retriable metadata errors, and gives up on others', async () => {
    const fake = fakeAdmin();
    const unknown = Object.assign(new Error('This server does not host this topic-partition'), { type: 'UNKNOWN_TOPIC_OR_PARTITION', retriable: true });
    fake.admin.fetchTopicMetadata.mockRejectedValueOnce(unknown);
    await run(fake, ['t']);
    expect(fake.admin.fetchTopicMetadata).toHaveBeenCalledTimes(3);

    const denied = Object.assign(new Error('Not authorized to access topics'), { type: 'TOPIC_AUTHORIZATION_FAILED', retriable: false });
    fake.admin.createTopics.mockRejectedValueOnce(denied);
    await expect(run(fake, ['u'])).rejects.toMatchObject({
      code: 'EVKIT_TRANSPORT_TOPICS_FAILED',
      retriable: false,
      message: 'could not create topics u: Not authorized to access topics',
      cause: denied,
    });
  });

  it('refuses a malformed entry before touching the cluster', async () => {
    const fake = fakeAdmin();
    await expect(run(fake, [{ topic: 'x', sizedLike: { topic: '', headroomBytes: 0 } }])).rejects.toBeInstanceOf(TransportConfigError);
    expect(fake.admin.listTopics).not.toHaveBeenCalled();
  });
});
