import type { ClientErrorReader } from './connect-once';
import { createTopicsAndWaitWith, ensureTopicsWith, type TopicAdmin, type TopicToCreate } from './ensure-topics';
import { TransportConfigError, TransportTopicsError } from './errors';
import type { TopicSpec } from './transport';

// A fake admin over a fake cluster: topics with a max.message.bytes, and partitions whose
// leaders appear on the second look, as right after a creation. Each transport's adapter is
// tested against its client (and the contract suites run the real thing).

const errors: ClientErrorReader = {
  messageOf: (error) => (error as Error).message,
  isRetriable: (error) => (error as { retriable?: boolean }).retriable === true,
};

function fakeAdmin(initial: Record<string, number> = {}) {
  const limits = new Map(Object.entries(initial));
  const leaders = new Map([...limits.keys()].map((topic) => [topic, true]));
  const created: TopicToCreate[][] = [];
  let leadersAppear = true;
  const admin = {
    listTopics: jest.fn(() => Promise.resolve([...limits.keys()])),
    createTopics: jest.fn((topics: TopicToCreate[]) => {
      created.push(topics);
      for (const { topic, configs } of topics) {
        limits.set(topic, Number(configs?.find((c) => c.name === 'max.message.bytes')?.value ?? 1_048_588));
        leaders.set(topic, false);
      }
      return Promise.resolve();
    }),
    leaderless: jest.fn((topics: string[]) => {
      const pending = topics.filter((topic) => !leaders.get(topic));
      if (leadersAppear) for (const topic of topics) leaders.set(topic, true);
      return Promise.resolve(pending);
    }),
    maxMessageBytes: jest.fn((topics: string[]) => Promise.resolve(topics.map((topic) => ({ topic, value: String(limits.get(topic)) })))),
  } satisfies TopicAdmin;
  return { admin, created, noLeaders: () => void (leadersAppear = false) };
}

const ensure = (fake: ReturnType<typeof fakeAdmin>, topics: (string | TopicSpec)[], leaderTimeoutMs = 2_000, connect = () => Promise.resolve()) =>
  ensureTopicsWith(fake.admin, topics, { connect, leaderTimeoutMs, errors });

describe('ensureTopicsWith', () => {
  it('connects, creates what is missing and waits until every partition has a leader', async () => {
    const fake = fakeAdmin({ old: 1000 });
    const connect = jest.fn(() => Promise.resolve());
    await ensure(fake, ['old', 'new'], 2_000, connect);
    expect(connect.mock.invocationCallOrder[0]).toBeLessThan(fake.admin.listTopics.mock.invocationCallOrder[0]!);
    expect(fake.created).toEqual([[{ topic: 'new' }]]);
    expect(fake.admin.leaderless).toHaveBeenCalledTimes(2);
  });

  it('creates plain topics first, then sizes the others like their source: its max.message.bytes plus the headroom', async () => {
    const fake = fakeAdmin({ big: 4_194_304 });
    await ensure(fake, [
      { topic: 'big.dlq', sizedLike: { topic: 'big', headroomBytes: 65_536 } },
      'fresh',
      { topic: 'fresh.dlq', sizedLike: { topic: 'fresh', headroomBytes: 100 } },
      { topic: 'orphan.dlq', sizedLike: { topic: 'orphan', headroomBytes: 100 } },
    ]);
    expect(fake.created).toEqual([
      [{ topic: 'fresh' }],
      [
        { topic: 'big.dlq', configs: [{ name: 'max.message.bytes', value: String(4_194_304 + 65_536) }] },
        { topic: 'fresh.dlq', configs: [{ name: 'max.message.bytes', value: String(1_048_588 + 100) }] },
        // A source that does not exist has nothing to copy: the broker's default applies.
        { topic: 'orphan.dlq' },
      ],
    ]);
    expect(fake.admin.maxMessageBytes).toHaveBeenCalledWith(['big', 'fresh']);
  });

  it('leaves existing topics as they are, and does nothing for no topics', async () => {
    const fake = fakeAdmin({ big: 4_194_304, 'big.dlq': 1000 });
    await ensure(fake, [{ topic: 'big.dlq', sizedLike: { topic: 'big', headroomBytes: 1 } }]);
    await ensure(fake, []);
    expect(fake.admin.createTopics).not.toHaveBeenCalled();
    expect(fake.admin.maxMessageBytes).not.toHaveBeenCalled();
    expect(fake.admin.listTopics).toHaveBeenCalledTimes(1);
  });

  it('refuses a source without a readable max.message.bytes, saying why when the client does', async () => {
    const fake = fakeAdmin({ big: 1000 });
    fake.admin.maxMessageBytes.mockResolvedValueOnce([{ topic: 'big', value: undefined, problem: 'no value' }] as never);
    await expect(ensure(fake, [{ topic: 'big.dlq', sizedLike: { topic: 'big', headroomBytes: 1 } }])).rejects.toMatchObject({
      code: 'EVKIT_TRANSPORT_TOPICS_FAILED',
      retriable: false,
      message: 'topic big has no readable max.message.bytes (no value)',
    });
    fake.admin.maxMessageBytes.mockResolvedValueOnce([{ topic: 'big', value: '0' }]);
    await expect(ensure(fake, [{ topic: 'big.dlq', sizedLike: { topic: 'big', headroomBytes: 1 } }])).rejects.toThrow(
      new TransportTopicsError('topic big has no readable max.message.bytes'),
    );
  });

  it('fails with a retriable TransportTopicsError when a new partition has no leader in time', async () => {
    const fake = fakeAdmin();
    fake.noLeaders();
    const failure = ensure(fake, ['t'], 300);
    await expect(failure).rejects.toBeInstanceOf(TransportTopicsError);
    await expect(failure).rejects.toMatchObject({ retriable: true, message: 'partitions of t had no leader 300 ms after their creation' });
  });

  it('keeps polling through retriable errors (named in the timeout), and gives up on others, wrapped with the client reading', async () => {
    const fake = fakeAdmin();
    fake.admin.leaderless.mockRejectedValueOnce(Object.assign(new Error('not hosted yet'), { retriable: true }));
    await ensure(fake, ['t']);
    expect(fake.admin.leaderless).toHaveBeenCalledTimes(3);

    fake.noLeaders();
    fake.admin.leaderless.mockRejectedValue(Object.assign(new Error('not hosted yet'), { retriable: true }));
    await expect(ensure(fake, ['u'], 100)).rejects.toMatchObject({ retriable: true, message: 'partitions of u had no leader 100 ms after their creation (not hosted yet)' });

    const denied = Object.assign(new Error('Not authorized'), { retriable: false });
    fake.admin.leaderless.mockRejectedValueOnce(denied);
    await expect(ensure(fake, ['v', 'w'])).rejects.toMatchObject({ retriable: false, message: 'could not create topics v, w: Not authorized', cause: denied });
  });

  it('wraps any failure of the client in a TransportTopicsError, retriable as the client reads it', async () => {
    const fake = fakeAdmin();
    fake.admin.listTopics.mockRejectedValueOnce(Object.assign(new Error('Connection closed'), { retriable: true }));
    await expect(ensure(fake, ['t'])).rejects.toMatchObject({ code: 'EVKIT_TRANSPORT_TOPICS_FAILED', retriable: true, message: 'could not create topics t: Connection closed' });
    const connect = () => Promise.reject(new Error('refused'));
    await expect(ensure(fake, ['t'], 2_000, connect)).rejects.toMatchObject({ retriable: false, message: 'could not create topics t: refused' });
  });

  it('refuses a malformed entry before touching the cluster', async () => {
    const fake = fakeAdmin();
    await expect(ensure(fake, [{ topic: 'x', sizedLike: { topic: '', headroomBytes: 0 } }])).rejects.toBeInstanceOf(TransportConfigError);
    expect(fake.admin.listTopics).not.toHaveBeenCalled();
  });
});

describe('createTopicsAndWaitWith', () => {
  it('hands the topics to the admin as given, then waits for leaders; nothing for no topics', async () => {
    const fake = fakeAdmin();
    const topics = [{ topic: 'a', partitions: 3 }];
    await createTopicsAndWaitWith(fake.admin, topics, { leaderTimeoutMs: 1_000, errors });
    expect(fake.admin.createTopics).toHaveBeenCalledWith(topics);
    expect(fake.admin.leaderless).toHaveBeenLastCalledWith(['a']);
    await createTopicsAndWaitWith(fake.admin, [], { leaderTimeoutMs: 1_000, errors });
    expect(fake.admin.createTopics).toHaveBeenCalledTimes(1);
  });
});
