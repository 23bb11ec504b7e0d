import { Kafka, logLevel, type Admin, type Consumer, type ConsumerRunConfig, type EachBatchPayload } from 'kafkajs';
import {
  BatchHandlerError,
  ConsumerCrashError,
  TransportCommitError,
  TransportConfigError,
  TransportConnectError,
  TransportOffsetsError,
  TransportStateError,
  type PartitionBatch,
  type SubscriberErrorListener,
} from '@evkit/transport';
import { createKafkaJsSubscriber, type KafkaJsSubscriberOptions } from './subscriber';

// The KafkaJS consumer replaced by a fake that records calls and lets a test fire the events
// and batches KafkaJS would, so the decisions around it (commit guard, redelivery, crash
// reporting) are tested without a broker. The contract suite runs the real thing.

type Listener = (event: { payload: unknown }) => void;

function fakeKafka() {
  const kafka = new Kafka({ brokers: ['127.0.0.1:1'], logLevel: logLevel.NOTHING });
  const listeners = new Map<string, Listener>();
  let config: ConsumerRunConfig | undefined;
  const consumer = {
    events: { GROUP_JOIN: 'consumer.group_join', REBALANCING: 'consumer.rebalancing', CRASH: 'consumer.crash' },
    on: (event: string, listener: Listener) => void listeners.set(event, listener),
    connect: jest.fn(() => Promise.resolve()),
    subscribe: jest.fn(() => Promise.resolve()),
    run: jest.fn((runConfig: ConsumerRunConfig) => {
      config = runConfig;
      emit('consumer.group_join', { memberAssignment: { t: [0, 1] } });
      return Promise.resolve();
    }),
    commitOffsets: jest.fn((_offsets: unknown) => Promise.resolve()),
    seek: jest.fn(),
    pause: jest.fn(),
    resume: jest.fn(),
    disconnect: jest.fn(() => Promise.resolve()),
  };
  const admin = { connect: jest.fn(() => Promise.resolve()), disconnect: jest.fn(() => Promise.resolve()) };
  const emit = (event: string, payload: unknown) => listeners.get(event)?.({ payload });
  jest.spyOn(kafka, 'consumer').mockReturnValue(consumer as unknown as Consumer);
  jest.spyOn(kafka, 'admin').mockReturnValue(admin as unknown as Admin);

  /** Hands a batch of `offsets` to eachBatch as KafkaJS would. */
  const deliver = async (partition: number, offsets: number[], stale = () => false) => {
    const resolved: string[] = [];
    const messages = offsets.map((offset) => ({ offset: String(offset), timestamp: '1700000000000', key: Buffer.from('k'), value: Buffer.from(`v${offset}`), headers: {}, attributes: 0, size: 0 }));
    const payload = {
      batch: {
        topic: 't',
        partition,
        highWatermark: '100',
        messages,
        firstOffset: () => messages[0]!.offset,
        lastOffset: () => messages.at(-1)!.offset,
      },
      resolveOffset: (offset: string) => void resolved.push(offset),
      heartbeat: jest.fn(() => Promise.resolve()),
      isRunning: () => true,
      isStale: stale,
    };
    await config!.eachBatch!(payload as unknown as EachBatchPayload);
    return { resolved, payload };
  };
  return { kafka, consumer, admin, emit, deliver };
}

async function running(options: Partial<KafkaJsSubscriberOptions> & { handleBatch?: (batch: PartitionBatch) => Promise<void> } = {}) {
  const fake = fakeKafka();
  const errors: Parameters<SubscriberErrorListener>[0][] = [];
  const { handleBatch = () => Promise.resolve(), ...rest } = options;
  const subscriber = createKafkaJsSubscriber({ kafka: fake.kafka, onError: (error) => errors.push(error), ...rest });
  await subscriber.run({ groupId: 'g', topics: ['t'], handleBatch });
  return { ...fake, subscriber, errors };
}

const rejection = (type: string) => Object.assign(new Error(type), { name: 'KafkaJSNonRetriableError', retriable: false, cause: Object.assign(new Error(type), { type, retriable: false }) });

describe('createKafkaJsSubscriber', () => {
  afterEach(() => jest.useRealTimers());

  it('runs KafkaJS with autoCommit and auto-resolve off', async () => {
    const { consumer } = await running({ partitionsConsumedConcurrently: 5 });
    expect(consumer.run).toHaveBeenCalledWith(expect.objectContaining({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 5 }));
  });

  it('commits assigned partitions only, and nothing while rejoining', async () => {
    const { subscriber, consumer, emit } = await running();
    await subscriber.commit({ topic: 't', partition: 1, offset: '5' });
    await subscriber.commit({ topic: 't', partition: 7, offset: '5' });
    expect(consumer.commitOffsets.mock.calls).toEqual([[[{ topic: 't', partition: 1, offset: '5' }]]]);

    emit('consumer.rebalancing', { groupId: 'g', memberId: 'm' });
    await subscriber.commit({ topic: 't', partition: 1, offset: '6' });
    expect(consumer.commitOffsets).toHaveBeenCalledTimes(1);

    emit('consumer.group_join', { memberAssignment: { t: [0] } });
    await subscriber.commit({ topic: 't', partition: 1, offset: '6' });
    await subscriber.commit({ topic: 't', partition: 0, offset: '6' });
    expect(consumer.commitOffsets).toHaveBeenCalledTimes(2);
  });

  it('treats a commit the broker refused for a stale generation as a no-op that deactivates batches', async () => {
    let batch: PartitionBatch | undefined;
    let release!: () => void;
    const { subscriber, consumer, deliver } = await running({ handleBatch: (b) => ((batch = b), new Promise<void>((resolve) => (release = resolve))) });
    const delivering = deliver(0, [0, 1]);
    consumer.commitOffsets.mockRejectedValueOnce(rejection('ILLEGAL_GENERATION'));
    await expect(subscriber.commit({ topic: 't', partition: 0, offset: '1' })).resolves.toBeUndefined();
    expect(batch!.isActive()).toBe(false);
    release();
    await delivering;
  });

  it('turns other commit failures into TransportCommitError', async () => {
    const { subscriber, consumer } = await running();
    consumer.commitOffsets.mockRejectedValueOnce(Object.assign(new Error('retries exhausted'), { name: 'KafkaJSNumberOfRetriesExceeded' }));
    await expect(subscriber.commit({ topic: 't', partition: 0, offset: '1' })).rejects.toMatchObject({
      constructor: TransportCommitError,
      retriable: true,
    });
  });

  it('moves the fetch position past a handled batch, and hands records over as IncomingRecords', async () => {
    let batch: PartitionBatch | undefined;
    const { deliver } = await running({ handleBatch: (b) => Promise.resolve(void (batch = b)) });
    const { resolved } = await deliver(1, [4, 5, 6]);
    expect(resolved).toEqual(['6']);
    expect(batch).toMatchObject({ topic: 't', partition: 1, highWatermark: '100' });
    expect(batch!.records[0]).toEqual({ topic: 't', partition: 1, offset: '4', timestamp: 1700000000000, key: Buffer.from('k'), value: Buffer.from('v4'), headers: {} });
    expect(batch!.isActive()).toBe(true);
  });

  it('leaves the position to a seek made during the batch', async () => {
    const { deliver } = await running();
    const { resolved } = await deliver(0, [0, 1], () => true);
    expect(resolved).toEqual([]);
  });

  it('seeks a failed batch back to its first uncommitted offset, holds the partition back and reports', async () => {
    jest.useFakeTimers();
    let fail = true;
    const { subscriber, consumer, deliver, errors } = await running({
      redeliveryDelayMs: 250,
      handleBatch: async () => {
        if (!fail) return;
        await subscriber.commit({ topic: 't', partition: 0, offset: '12' });
        throw new Error('boom');
      },
    });
    const { resolved } = await deliver(0, [10, 11, 12, 13]);
    expect(resolved).toEqual([]);
    expect(consumer.seek).toHaveBeenCalledWith({ topic: 't', partition: 0, offset: '12' });
    expect(consumer.pause).toHaveBeenCalledWith([{ topic: 't', partitions: [0] }]);
    expect(errors).toEqual([expect.any(BatchHandlerError)]);
    expect(errors[0]).toMatchObject({ topic: 't', partition: 0, redeliverFrom: '12' });

    // A pause of the caller's own outlasts the hold-back.
    subscriber.pause([{ topic: 't', partition: 0 }]);
    jest.advanceTimersByTime(250);
    expect(consumer.resume).not.toHaveBeenCalled();
    subscriber.resume([{ topic: 't', partition: 0 }]);
    expect(consumer.resume).toHaveBeenCalledWith([{ topic: 't', partitions: [0] }]);
    fail = false;
  });

  it('answers heartbeats through a rebalance without rejecting, and deactivates the batch', async () => {
    let batch: PartitionBatch | undefined;
    let beat: Promise<void> | undefined;
    const { deliver } = await running({
      handleBatch: (b) => {
        batch = b;
        beat = b.heartbeat();
        return beat;
      },
    });
    const { payload } = await deliver(0, [0]);
    expect(payload.heartbeat).toHaveBeenCalled();
    await expect(beat).resolves.toBeUndefined();
    expect(batch!.isActive()).toBe(true);

    payload.heartbeat.mockRejectedValueOnce(Object.assign(new Error('rebalancing'), { type: 'REBALANCE_IN_PROGRESS' }));
    await batch!.heartbeat();
    expect(batch!.isActive()).toBe(false);
  });

  it('reports a crash after the join to onError, and commits nothing afterwards', async () => {
    const { subscriber, consumer, emit, errors } = await running();
    const cause = Object.assign(new Error('broker gone'), { name: 'KafkaJSNumberOfRetriesExceeded' });
    emit('consumer.crash', { error: cause, groupId: 'g', restart: true });
    expect(errors).toEqual([expect.any(ConsumerCrashError)]);
    expect(errors[0]).toMatchObject({ restarting: true, retriable: true, cause });
    await subscriber.commit({ topic: 't', partition: 0, offset: '1' });
    expect(consumer.commitOffsets).not.toHaveBeenCalled();
  });

  it('rejects run with TransportConnectError when the consumer crashes before joining', async () => {
    const fake = fakeKafka();
    fake.consumer.run.mockImplementationOnce(() => {
      fake.emit('consumer.crash', { error: Object.assign(new Error('no coordinator'), { retriable: true }), groupId: 'g', restart: true });
      return Promise.resolve();
    });
    const errors: unknown[] = [];
    const subscriber = createKafkaJsSubscriber({ kafka: fake.kafka, onError: (error) => errors.push(error) });
    await expect(subscriber.run({ groupId: 'g', topics: ['t'], handleBatch: () => Promise.resolve() })).rejects.toMatchObject({
      constructor: TransportConnectError,
      retriable: true,
    });
    expect(fake.consumer.disconnect).toHaveBeenCalled();
    expect(errors).toEqual([]);
  });

  it('waits for batches in flight on disconnect, still committing theirs, and hands out no new ones', async () => {
    let release!: () => void;
    const { subscriber, consumer, deliver, admin } = await running({
      handleBatch: async (batch) => {
        await new Promise<void>((resolve) => (release = resolve));
        expect(batch.isActive()).toBe(false);
        await subscriber.commit({ topic: 't', partition: 0, offset: '1' });
      },
    });
    const delivering = deliver(0, [0]);
    const disconnecting = subscriber.disconnect();
    expect(consumer.pause).toHaveBeenCalled();
    const late = await deliver(1, [0]);
    expect(late.resolved).toEqual([]);
    release();
    await Promise.all([delivering, disconnecting]);
    expect(consumer.commitOffsets).toHaveBeenCalledWith([{ topic: 't', partition: 0, offset: '1' }]);
    expect(consumer.disconnect).toHaveBeenCalled();
    expect(admin.disconnect).toHaveBeenCalled();
  });

  it('reads offsets of a topic created a moment ago again after refreshing stale metadata, and gives up after a bound', async () => {
    const { subscriber, admin } = await running();
    const stale = Object.assign(new Error('This server is not the leader for that topic-partition'), { type: 'NOT_LEADER_FOR_PARTITION', retriable: true });
    let reads = 0;
    const offsetsOf = jest.fn(() => (++reads <= 2 ? Promise.reject(stale) : Promise.resolve([{ partition: 0, offset: '7', high: '7', low: '0' }])));
    const refresh = jest.fn(() => Promise.resolve({ topics: [] }));
    Object.assign(admin, {
      fetchOffsets: jest.fn(() => Promise.resolve([{ topic: 't.parked', partitions: [{ partition: 0, offset: '-1' }] }])),
      fetchTopicOffsets: offsetsOf,
      fetchTopicMetadata: refresh,
    });
    await expect(subscriber.offsets('g', ['t.parked'])).resolves.toEqual([{ topic: 't.parked', partition: 0, committed: '-1', highWatermark: '7' }]);
    expect(refresh).toHaveBeenCalledTimes(2);
    offsetsOf.mockImplementation(() => Promise.reject(stale));
    const error = await subscriber.offsets('g', ['t.parked']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportOffsetsError);
    expect(offsetsOf).toHaveBeenCalledTimes(3 + 5);
    await subscriber.disconnect();
  }, 15_000);

  it('refuses unusable options and a second run', async () => {
    const kafka = new Kafka({ brokers: ['127.0.0.1:1'], logLevel: logLevel.NOTHING });
    expect(() => createKafkaJsSubscriber({})).toThrow(TransportConfigError);
    expect(() => createKafkaJsSubscriber({ brokers: ['no-port'] })).toThrow(TransportConfigError);
    expect(() => createKafkaJsSubscriber({ kafka, brokers: ['127.0.0.1:9092'] })).toThrow(/not both \(brokers\)/);
    expect(() => createKafkaJsSubscriber({ kafka, heartbeatInterval: 30_000 })).toThrow(TransportConfigError);
    expect(() => createKafkaJsSubscriber({ kafka, partitionsConsumedConcurrently: 0 })).toThrow(TransportConfigError);
    expect(() => createKafkaJsSubscriber({ kafka, redeliveryDelayMs: -1 })).toThrow(TransportConfigError);
    expect(() => createKafkaJsSubscriber({ kafka, topicLeaderTimeoutMs: 0 })).toThrow(/topicLeaderTimeoutMs must be a positive integer/);
    // Static membership would otherwise be dropped without a word: KafkaJS has none.
    expect(() => createKafkaJsSubscriber({ kafka, groupInstanceId: 'orders-0' })).toThrow(/groupInstanceId \(static membership\) is not supported by KafkaJS/);
    const { subscriber } = await running();
    await expect(subscriber.run({ groupId: 'g', topics: ['t'], handleBatch: () => Promise.resolve() })).rejects.toBeInstanceOf(TransportStateError);
  });
});
