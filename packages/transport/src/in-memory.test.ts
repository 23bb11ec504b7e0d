import { BatchHandlerError, ConsumerCrashError, TransportCommitError, TransportConfigError, TransportOffsetsError, TransportSendError, TransportStateError } from './errors';
import { createInMemoryBroker } from './in-memory';
import { partitionForKey } from './murmur2';
import type { PartitionBatch, SubscribeOptions } from './transport';

// The contract suite (@evkit/testkit) covers the Kafka semantics; these cover what only the
// in-memory broker has: fault hooks, inspection, idle() and its edge-of-API checks.

const record = (topic: string, key: string | null, value: string) => ({ topic, key, value: Buffer.from(value), headers: { h: 'v' } });

function recorder(overrides: Partial<SubscribeOptions> = {}): { batches: PartitionBatch[]; options: SubscribeOptions } {
  const batches: PartitionBatch[] = [];
  return {
    batches,
    options: {
      groupId: 'g',
      topics: ['t'],
      fromBeginning: true,
      handleBatch: (batch) => {
        batches.push(batch);
        return Promise.resolve();
      },
      ...overrides,
    },
  };
}

describe('createInMemoryBroker', () => {
  it('stores records at murmur2 partitions and spreads keyless ones round-robin', async () => {
    const broker = createInMemoryBroker({ partitionsPerTopic: 4, now: () => 42 });
    const key = ['a', 'b', 'c', 'd', 'e', 'f'].find((k) => partitionForKey(k, 4) === 3)!;
    const positions = await broker.publisher().send([record('t', key, '1'), record('t', null, '2'), record('t', null, '3'), record('t', key, '4')]);
    expect(positions).toEqual([
      { topic: 't', partition: 3, offset: '0' },
      { topic: 't', partition: 0, offset: '0' },
      { topic: 't', partition: 1, offset: '0' },
      { topic: 't', partition: 3, offset: '1' },
    ]);
    const topic = broker.topic('t');
    expect(topic.partitions).toBe(4);
    expect(topic.highWatermark(3)).toBe('2');
    expect(topic.records()).toHaveLength(4);
    const [first] = topic.records(3);
    expect(first).toMatchObject({ timestamp: 42, key: Buffer.from(key), value: Buffer.from('1'), headers: { h: Buffer.from('v') } });
  });

  it('fails the next send once, appending nothing', async () => {
    const broker = createInMemoryBroker();
    const publisher = broker.publisher();
    broker.failNextSend(new TransportSendError('broker down', { retriable: true, outcomeUnknown: true }));
    await expect(publisher.send([record('t', 'k', '1')])).rejects.toMatchObject({ code: 'EVKIT_TRANSPORT_SEND_FAILED', retriable: true });
    await expect(publisher.send([record('t', 'k', '1')])).resolves.toHaveLength(1);
    expect(broker.topic('t').records()).toHaveLength(1);
  });

  it('fails the next commit once, committing nothing', async () => {
    const broker = createInMemoryBroker({ partitionsPerTopic: 1 });
    const subscriber = broker.subscriber();
    await subscriber.run(recorder().options);
    broker.failNextCommit(new TransportCommitError('coordinator moved', { retriable: true }));
    await expect(subscriber.commit({ topic: 't', partition: 0, offset: '1' })).rejects.toBeInstanceOf(TransportCommitError);
    expect(broker.committed('g', 't', 0)).toBe('-1');
    await subscriber.commit({ topic: 't', partition: 0, offset: '1' });
    expect(broker.committed('g', 't', 0)).toBe('1');
    await subscriber.disconnect();
  });

  it('starts a group without commits at the end unless fromBeginning', async () => {
    const broker = createInMemoryBroker({ partitionsPerTopic: 1 });
    await broker.publisher().send([record('t', 'k', 'old')]);
    const { batches, options } = recorder({ fromBeginning: false });
    const subscriber = broker.subscriber();
    await subscriber.run(options);
    await broker.publisher().send([record('t', 'k', 'new')]);
    await broker.idle();
    expect(batches.flatMap((b) => b.records.map((r) => r.value?.toString()))).toEqual(['new']);
    await subscriber.disconnect();
  });

  it('keeps the log apart from what handlers are given', async () => {
    const broker = createInMemoryBroker({ partitionsPerTopic: 1 });
    await broker.publisher().send([record('t', 'k', 'value')]);
    const subscriber = broker.subscriber();
    await subscriber.run(recorder({
        handleBatch: (batch) => {
          batch.records[0]!.value!.fill(0);
          return Promise.resolve();
        },
      }).options);
    await broker.idle();
    expect(broker.topic('t').records()[0]!.value!.toString()).toBe('value');
    await subscriber.disconnect();
  });

  it('lets a crashed member go at once: its commits stop counting, its partitions move on', async () => {
    const broker = createInMemoryBroker({ partitionsPerTopic: 1 });
    await broker.publisher().send([record('t', 'k', '1')]);
    const reported: unknown[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const crashing = broker.subscriber({ onError: (error) => reported.push(error) });
    const seen: PartitionBatch[] = [];
    await crashing.run(recorder({ handleBatch: (batch) => (seen.push(batch), held) }).options);
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toHaveLength(1);

    crashing.crash(new Error('OOM'));
    expect(reported).toHaveLength(1);
    expect(reported[0]).toBeInstanceOf(ConsumerCrashError);
    expect(reported[0]).toMatchObject({ restarting: false, retriable: false });
    expect(seen[0]!.isActive()).toBe(false);
    expect(crashing.assignment()).toEqual([]);
    await crashing.commit({ topic: 't', partition: 0, offset: '1' });
    expect(broker.committed('g', 't', 0)).toBe('-1');

    const next = recorder();
    const survivor = broker.subscriber();
    await survivor.run(next.options);
    await broker.idle();
    expect(next.batches.map((b) => b.records[0]!.offset)).toEqual(['0']);
    expect(survivor.assignment()).toEqual([{ topic: 't', partition: 0 }]);
    release();
    await survivor.disconnect();
  });

  it('reports a throwing handler through onError and redelivers from the last commit', async () => {
    const broker = createInMemoryBroker({ partitionsPerTopic: 1 });
    await broker.publisher().send([record('t', 'k', '0'), record('t', 'k', '1'), record('t', 'k', '2')]);
    const reported: unknown[] = [];
    const offsets: string[][] = [];
    let calls = 0;
    const subscriber = broker.subscriber({ onError: (error) => reported.push(error) });
    await subscriber.run(
      recorder({
        handleBatch: async (batch) => {
          offsets.push(batch.records.map((r) => r.offset));
          if (calls++ > 0) return;
          await subscriber.commit({ topic: 't', partition: 0, offset: '2' });
          throw new Error('boom');
        },
      }).options,
    );
    await broker.idle();
    expect(offsets).toEqual([['0', '1', '2'], ['2']]);
    expect(reported).toEqual([expect.any(BatchHandlerError)]);
    expect((reported[0] as BatchHandlerError).cause).toEqual(new Error('boom'));
    await subscriber.disconnect();
  });

  it('waits for batches in flight on disconnect, and their commits count', async () => {
    const broker = createInMemoryBroker({ partitionsPerTopic: 1 });
    await broker.publisher().send([record('t', 'k', '0')]);
    let finish!: () => void;
    const subscriber = broker.subscriber();
    await subscriber.run(
      recorder({
        handleBatch: async (batch) => {
          await new Promise<void>((resolve) => (finish = resolve));
          expect(batch.isActive()).toBe(false);
          await subscriber.commit({ topic: 't', partition: 0, offset: '1' });
        },
      }).options,
    );
    await new Promise((resolve) => setImmediate(resolve));
    const disconnecting = subscriber.disconnect();
    finish();
    await disconnecting;
    expect(broker.committed('g', 't', 0)).toBe('1');
  });

  it('ensureTopics creates topics given by name or spec, and refuses a malformed entry', async () => {
    const broker = createInMemoryBroker({ partitionsPerTopic: 2 });
    const subscriber = broker.subscriber();
    await subscriber.ensureTopics(['a', { topic: 'a.dlq', sizedLike: { topic: 'a', headroomBytes: 10 } }]);
    expect(broker.topic('a').partitions).toBe(2);
    expect(broker.topic('a.dlq').partitions).toBe(2);
    await expect(subscriber.ensureTopics([''])).rejects.toThrow(new TransportConfigError('ensureTopics[0] must be a topic name or { topic, sizedLike? }'));
    await expect(subscriber.ensureTopics(['b', { topic: 'c', sizedLike: { topic: 'a', headroomBytes: -1 } }])).rejects.toThrow(/ensureTopics\[1\]\.sizedLike/);
    expect(() => broker.topic('b')).toThrow(TransportStateError);
  });

  it('refuses unusable options and a second run', async () => {
    expect(() => createInMemoryBroker({ partitionsPerTopic: 0 })).toThrow(TransportConfigError);
    expect(() => createInMemoryBroker({ maxBatchSize: 1.5 })).toThrow(TransportConfigError);
    const broker = createInMemoryBroker();
    expect(() => broker.createTopic('t', -1)).toThrow(TransportConfigError);
    const subscriber = broker.subscriber();
    await expect(subscriber.run({ ...recorder().options, groupId: '' })).rejects.toBeInstanceOf(TransportConfigError);
    await expect(subscriber.run({ ...recorder().options, topics: [] })).rejects.toBeInstanceOf(TransportConfigError);
    await subscriber.run(recorder().options);
    await expect(subscriber.run(recorder().options)).rejects.toBeInstanceOf(TransportStateError);
    await expect(subscriber.offsets('g', ['missing'])).rejects.toBeInstanceOf(TransportOffsetsError);
    expect(() => broker.topic('missing')).toThrow(TransportStateError);
    await subscriber.disconnect();
  });

  it('cuts batches at maxBatchSize', async () => {
    const broker = createInMemoryBroker({ partitionsPerTopic: 1, maxBatchSize: 2 });
    await broker.publisher().send(['0', '1', '2', '3', '4'].map((v) => record('t', 'k', v)));
    const { batches, options } = recorder();
    const subscriber = broker.subscriber();
    await subscriber.run(options);
    await broker.idle();
    expect(batches.map((b) => b.records.length)).toEqual([2, 2, 1]);
    expect(batches.map((b) => b.highWatermark)).toEqual(['5', '5', '5']);
    await subscriber.disconnect();
  });
});
