import type { PartitionBatch, SubscriberTransport } from '@evkit/transport';
import { createPlatformaticSubscriber } from './subscriber';

// A one-member group on a fake cluster: every partition of topic `t` holds `mockLog.length`
// records from offset 0, and a fetch returns up to `mockLog.batch` of them per partition asked.
const mockLog = { partitions: 6, length: 30, batch: 10, requests: [] as { partition: number; offset: bigint }[], refuseCommits: false };

jest.mock('@platformatic/kafka', () => {
  const actual = jest.requireActual<typeof import('@platformatic/kafka')>('@platformatic/kafka');
  const partitionIds = () => Array.from({ length: mockLog.partitions }, (_, i) => i);
  const batchFrom = (offset: bigint) => {
    const count = Math.min(mockLog.batch, mockLog.length - Number(offset));
    const records = Array.from({ length: count }, (_, i) => ({ length: 0, attributes: 0, timestampDelta: 0n, offsetDelta: i, key: null, value: Buffer.from('v'), headers: [] }));
    return { firstOffset: offset, length: 0, partitionLeaderEpoch: 0, magic: 2, crc: 0, attributes: 0, lastOffsetDelta: count - 1, firstTimestamp: 0n, maxTimestamp: 0n, producerId: -1n, producerEpoch: -1, firstSequence: -1, records };
  };
  class Consumer {
    private readonly listeners = new Map<string, (payload: unknown) => void>();
    readonly topics = { trackAll: () => [] };
    readonly memberId = 'member';
    readonly groupId = 'g';
    readonly generationId = 1;
    readonly groupInstanceId = null;
    readonly coordinatorId = 1;
    readonly connections = { get: () => Promise.resolve({}) };
    on(event: string, listener: (payload: unknown) => void) {
      this.listeners.set(event, listener);
      return this;
    }
    joinGroup() {
      this.listeners.get('consumer:group:join')?.({ assignments: [{ topic: 't', partitions: partitionIds() }] });
      return Promise.resolve('member');
    }
    listCommittedOffsets() {
      return Promise.resolve(new Map([['t', partitionIds().map(() => 0n)]]));
    }
    metadata() {
      return Promise.resolve({
        topics: new Map([['t', { id: 'id-t', partitions: partitionIds().map(() => ({ leader: 1 })) }]]),
        brokers: new Map([[1, { host: 'fake', port: 1 }]]),
      });
    }
    async fetch(options: { maxWaitTime: number; topics: { partitions: { partition: number; fetchOffset: bigint }[] }[] }) {
      const asked = options.topics.flatMap((t) => t.partitions);
      for (const { partition, fetchOffset } of asked) mockLog.requests.push({ partition, offset: fetchOffset });
      // As a broker's long poll: an answer with no records comes after the wait.
      if (asked.every((p) => p.fetchOffset >= BigInt(mockLog.length))) await new Promise((resolve) => setTimeout(resolve, options.maxWaitTime));
      const partitions = asked.map(({ partition, fetchOffset }) => ({
        partitionIndex: partition,
        errorCode: 0,
        highWatermark: BigInt(mockLog.length),
        lastStableOffset: BigInt(mockLog.length),
        logStartOffset: 0n,
        abortedTransactions: null,
        preferredReadReplica: -1,
        records: fetchOffset < BigInt(mockLog.length) ? [batchFrom(fetchOffset)] : [],
      }));
      return { throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses: [{ topicId: 'id-t', partitions }] };
    }
    clearMetadata() {}
    close() {
      return Promise.resolve();
    }
  }
  class Admin {
    close() {
      return Promise.resolve();
    }
  }
  // A refused commit as the broker answers one from an older generation.
  const offsetCommitV8 = {
    api: { async: () => (mockLog.refuseCommits ? Promise.reject(Object.assign(new Error('illegal generation'), { apiId: 'ILLEGAL_GENERATION' })) : Promise.resolve({})) },
  };
  return { ...actual, Consumer, Admin, offsetCommitV8 };
});

const offsetsOf = (batch: PartitionBatch) => batch.records.map((r) => Number(r.offset));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await sleep(10);
  expect(condition()).toBe(true);
}

describe('the subscriber fetch loop', () => {
  let subscriber: SubscriberTransport | undefined;

  beforeEach(() => {
    Object.assign(mockLog, { partitions: 6, length: 30, batch: 10, requests: [], refuseCommits: false });
  });

  afterEach(async () => {
    await subscriber?.disconnect();
    subscriber = undefined;
  });

  it('keeps records fetched beyond the in-flight limit for later, fetching no offset twice, in order per partition', async () => {
    const delivered = new Map<number, number[]>();
    let handling = 0;
    let mostHandled = 0;
    subscriber = createPlatformaticSubscriber({ brokers: ['fake:1'], partitionsConsumedConcurrently: 3, maxWaitTimeInMs: 20 });
    await subscriber.run({
      groupId: 'g',
      topics: ['t'],
      async handleBatch(batch) {
        handling += 1;
        mostHandled = Math.max(mostHandled, handling);
        delivered.set(batch.partition, [...(delivered.get(batch.partition) ?? []), ...offsetsOf(batch)]);
        await sleep(5);
        handling -= 1;
      },
    });
    await until(() => [...delivered.values()].flat().length === 6 * 30);
    const all = Array.from({ length: 30 }, (_, i) => i);
    expect(new Map([...delivered].sort(([a], [b]) => a - b))).toEqual(new Map(Array.from({ length: 6 }, (_, p) => [p, all])));
    expect(mostHandled).toBe(3);
    const withRecords = mockLog.requests.filter((r) => r.offset < 30n).map((r) => `${r.partition}@${r.offset}`);
    expect(withRecords).toHaveLength(6 * 3);
    expect(new Set(withRecords).size).toBe(withRecords.length);
  });

  it('drops a waiting batch when its partition is paused or seeks, and fetches it again from where it then is', async () => {
    Object.assign(mockLog, { partitions: 3, length: 10, batch: 10 });
    const delivered: [number, number[]][] = [];
    let resumeAt: (() => void) | undefined;
    subscriber = createPlatformaticSubscriber({ brokers: ['fake:1'], partitionsConsumedConcurrently: 1, maxWaitTimeInMs: 20 });
    const transport = subscriber;
    await transport.run({
      groupId: 'g',
      topics: ['t'],
      async handleBatch(batch) {
        delivered.push([batch.partition, offsetsOf(batch)]);
        if (delivered.length === 1) {
          // Partitions 1 and 2 were fetched with this one and wait for the only slot.
          transport.seek({ topic: 't', partition: 1, offset: '6' });
          transport.pause([{ topic: 't', partition: 2 }]);
          resumeAt = () => transport.resume([{ topic: 't', partition: 2 }]);
        }
        await sleep(5);
      },
    });
    await until(() => delivered.length === 2);
    await sleep(100);
    expect(delivered).toHaveLength(2);
    resumeAt!();
    await until(() => delivered.length === 3);
    const all = Array.from({ length: 10 }, (_, i) => i);
    expect(delivered).toEqual([
      [0, all],
      [1, [6, 7, 8, 9]],
      [2, all],
    ]);
    expect(mockLog.requests.filter((r) => r.partition !== 0 && r.offset < 10n).map((r) => `${r.partition}@${r.offset}`)).toEqual(['1@0', '2@0', '1@6', '2@0']);
  });

  it("fetches a partition's next batch while its batch is handled, and drops it when that batch fails", async () => {
    Object.assign(mockLog, { partitions: 1, length: 30, batch: 10 });
    const delivered: number[][] = [];
    let failed = false;
    subscriber = createPlatformaticSubscriber({ brokers: ['fake:1'], partitionsConsumedConcurrently: 1, maxWaitTimeInMs: 20, redeliveryDelayMs: 0 });
    await subscriber.run({
      groupId: 'g',
      topics: ['t'],
      async handleBatch(batch) {
        delivered.push(offsetsOf(batch));
        // The next batch (10-19) is fetched while this one is handled.
        await until(() => mockLog.requests.some((r) => r.offset === BigInt(batch.records.at(-1)!.offset) + 1n));
        if (batch.records[0]!.offset === '10' && !failed) {
          failed = true;
          throw new Error('handler failed');
        }
      },
    });
    await until(() => delivered.flat().length === 40);
    const range = (from: number) => Array.from({ length: 10 }, (_, i) => from + i);
    // 10-19 failed, its prefetched successor (20-29) was dropped, and 10-19 came again, then 20-29.
    expect(delivered).toEqual([range(0), range(10), range(10), range(20)]);
  });

  it('delivers again a batch that failed after a refused commit, and the batch fetched after it, skipping no offset', async () => {
    Object.assign(mockLog, { partitions: 1, length: 30, batch: 10, refuseCommits: true });
    const delivered: number[][] = [];
    let failed = false;
    subscriber = createPlatformaticSubscriber({ brokers: ['fake:1'], partitionsConsumedConcurrently: 1, maxWaitTimeInMs: 20, redeliveryDelayMs: 0 });
    const transport = subscriber;
    await transport.run({
      groupId: 'g',
      topics: ['t'],
      async handleBatch(batch) {
        delivered.push(offsetsOf(batch));
        if (failed) return;
        failed = true;
        // 10-19 is fetched and waits; the commit is refused (the group moved to a new generation
        // as far as the broker is concerned), and the batch fails.
        await until(() => mockLog.requests.some((r) => r.offset === 10n));
        await sleep(20);
        await transport.commit({ topic: 't', partition: 0, offset: '5' });
        mockLog.refuseCommits = false;
        throw new Error('handler failed');
      },
    });
    await until(() => new Set(delivered.flat()).size === 30);
    const range = (from: number) => Array.from({ length: 10 }, (_, i) => from + i);
    expect(delivered).toEqual([range(0), range(0), range(10), range(20)]);
  });
});
