import { createInMemoryBroker, type IncomingRecord, type PublisherTransport } from '@evkit/transport';
import { RetryConfigError } from './errors';
import { createReplayer, replayGroupFor } from './replay';
import { createFailureRouting } from './routing';

const SOURCE = 'orders';
const GROUP = 'billing';
const DLQ = `${SOURCE}.${GROUP}.dlq`;
const NOW = Date.parse('2026-03-01T12:00:00Z');

class CodedError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
  }
}

/** An in-memory broker whose DLQ holds `keys` (one partition), dead-lettered by the real routing. */
async function deadLettered(keys: string[], code = 'EVKIT_TEST_FAILED') {
  const broker = createInMemoryBroker({ partitionsPerTopic: 1, maxBatchSize: 2 });
  broker.createTopic(SOURCE, 1);
  const routing = createFailureRouting({ publisher: broker.publisher(), groupId: GROUP, maxAttempts: 1 });
  for (const [i, key] of keys.entries()) {
    const source: IncomingRecord = {
      topic: SOURCE, partition: 0, offset: String(i), timestamp: NOW - 1000, key: Buffer.from(key), value: Buffer.from(`value-${key}`),
      headers: { ce_type: 'com.example.order.placed', ce_id: `id-${key}` },
    };
    await routing.deadLetter(source, new CodedError(`failed ${key}`, code), { groupId: GROUP, reason: 'handler', handler: 'com.example.order.placed', attempts: 1 });
  }
  const subscribers: { disconnect: jest.SpyInstance }[] = [];
  const publisher = broker.publisher();
  const replayer = createReplayer({
    publisher,
    subscriber: () => {
      const subscriber = broker.subscriber();
      subscribers.push({ disconnect: jest.spyOn(subscriber, 'disconnect') });
      return subscriber;
    },
    now: () => NOW,
  });
  const replayedOn = (topic = `${SOURCE}.${GROUP}.replay`) => {
    broker.createTopic(topic); // a no-op once it exists
    return broker.topic(topic).records();
  };
  return { broker, publisher, replayer, subscribers, replayedOn };
}

describe('createReplayer', () => {
  it('refuses missing options', () => {
    expect(() => createReplayer(undefined as never)).toThrow(RetryConfigError);
    expect(() => createReplayer({ subscriber: () => ({}) } as never)).toThrow(/publisher is required/);
    expect(() => createReplayer({ publisher: {} as PublisherTransport, subscriber: undefined as never })).toThrow(/subscriber must be a function/);
  });

  it('lists entries with their diagnostics, in partition and offset order, and shows one', async () => {
    const { replayer } = await deadLettered(['a', 'b', 'c']);
    const entries = await replayer.list(DLQ);
    expect(entries.map((e) => [e.key, e.position.offset, e.eventId])).toEqual([['a', '0', 'id-a'], ['b', '1', 'id-b'], ['c', '2', 'id-c']]);
    expect(entries[1]).toMatchObject({ eventType: 'com.example.order.placed', consumerGroup: GROUP, errorCode: 'EVKIT_TEST_FAILED', original: { topic: SOURCE, partition: 0, offset: '1' } });
    expect((await replayer.show(DLQ, 0, '2'))?.key).toBe('c');
    expect(await replayer.show(DLQ, 0, '9')).toBeUndefined();
    expect(await replayer.list(DLQ, { key: 'b', fromOffset: '0', toOffset: '1' })).toHaveLength(1);
    await expect(replayer.list(DLQ, { fromOffset: '-1' })).rejects.toThrow(/fromOffset must be an offset/);
  });

  it("sends each selected record to its group's replay topic, not the source topic, with its key, value and headers, plus replay headers", async () => {
    const { replayer, replayedOn } = await deadLettered(['a', 'b', 'c']);
    const report = await replayer.replay(DLQ, { key: 'b' });
    expect(report).toMatchObject({ dryRun: false, scanned: 3, matched: 1, replayed: 1, replayGroup: replayGroupFor(DLQ, { key: 'b' }, undefined), destinations: { [`${SOURCE}.${GROUP}.replay`]: 1 } });
    expect(replayedOn(SOURCE)).toHaveLength(0);
    const [sent] = replayedOn();
    expect(replayedOn()).toHaveLength(1);
    expect(sent!.key?.toString()).toBe('b');
    expect(sent!.value?.toString()).toBe('value-b');
    expect(sent!.headers['ce_id']?.toString()).toBe('id-b');
    expect(sent!.headers['evkit_replay-at']?.toString()).toBe('2026-03-01T12:00:00.000Z');
    expect(sent!.headers['evkit_replay-from']?.toString()).toBe(`${DLQ}:0:1`);
    // The dead-letter diagnostics stay behind: the replayed record is the original one.
    expect(Object.keys(sent!.headers).filter((name) => name.startsWith('kafka_dlt-') || name.startsWith('evkit_dlt-'))).toEqual([]);
  });

  it('sends to the source topic (every group) or a target topic when told to', async () => {
    const { broker, replayer, replayedOn } = await deadLettered(['a']);
    await replayer.replay(DLQ, {}, { target: { topic: 'orders.retry' } });
    expect(broker.topic('orders.retry').records().map((r) => r.key?.toString())).toEqual(['a']);
    expect(await replayer.replay(DLQ, {}, { target: 'original' })).toMatchObject({ replayed: 1, destinations: { [SOURCE]: 1 } });
    expect(replayedOn(SOURCE).map((r) => r.key?.toString())).toEqual(['a']);
    await expect(replayer.replay(DLQ, {}, { target: 'elsewhere' as never })).rejects.toThrow(/target must be/);
  });

  it('refuses a record that names no consumer group for a group replay, and says what to do', async () => {
    const broker = createInMemoryBroker({ partitionsPerTopic: 1 });
    await broker.publisher().send([{ topic: DLQ, key: null, value: Buffer.from('v'), headers: { 'kafka_dlt-original-topic': SOURCE } }]);
    const replayer = createReplayer({ publisher: broker.publisher(), subscriber: () => broker.subscriber() });
    await expect(replayer.replay(DLQ, {}, { dryRun: true })).rejects.toThrow(/names no consumer group; give a target topic, or replay to the original topic/);
  });

  it('a dry run sends nothing and moves no position: the replay after it sends everything', async () => {
    const { replayer, replayedOn } = await deadLettered(['a', 'b']);
    expect(await replayer.replay(DLQ, {}, { dryRun: true })).toMatchObject({ dryRun: true, matched: 2, replayed: 0 });
    expect(replayedOn()).toHaveLength(0);
    expect(await replayer.replay(DLQ)).toMatchObject({ matched: 2, replayed: 2 });
  });

  it('resumes where it stopped: after a failed send it reports the error, then sends only what was not sent', async () => {
    const { broker, replayer, replayedOn } = await deadLettered(['a', 'b', 'c', 'd']);
    let sends = 0;
    const progress: number[] = [];
    const failing = createReplayer({
      publisher: { ...broker.publisher(), send: (records) => (++sends === 2 ? Promise.reject(new Error('broker unavailable')) : broker.publisher().send(records)) },
      subscriber: () => broker.subscriber(),
    });
    await expect(failing.replay(DLQ, {}, { onProgress: (p) => progress.push(p.replayed) })).rejects.toThrow('broker unavailable');
    expect(progress).toEqual([2]); // the first batch of two went out and was recorded
    expect(replayedOn().map((r) => r.key?.toString())).toEqual(['a', 'b']);
    expect(await replayer.replay(DLQ)).toMatchObject({ scanned: 2, replayed: 2 });
    expect(replayedOn().map((r) => r.key?.toString())).toEqual(['a', 'b', 'c', 'd']);
    expect(await replayer.replay(DLQ)).toMatchObject({ scanned: 0, replayed: 0 }); // done: nothing again
  });

  it('refuses a record that names no original topic, instead of redelivering it forever', async () => {
    const broker = createInMemoryBroker({ partitionsPerTopic: 1 });
    await broker.publisher().send([{ topic: DLQ, key: Buffer.from('x'), value: Buffer.from('v'), headers: {} }]);
    const replayer = createReplayer({ publisher: broker.publisher(), subscriber: () => broker.subscriber() });
    await expect(replayer.replay(DLQ)).rejects.toThrow(/names no original topic; give a target topic/);
    await expect(replayer.replay(DLQ, {}, { target: 'original' })).rejects.toThrow(/names no original topic/);
  });

  it("disconnects each subscriber it made, and never the caller's publisher", async () => {
    const { replayer, publisher, subscribers } = await deadLettered(['a']);
    const publisherDisconnect = jest.spyOn(publisher, 'disconnect');
    await replayer.list(DLQ);
    await replayer.replay(DLQ);
    expect(subscribers.length).toBeGreaterThanOrEqual(2);
    for (const subscriber of subscribers) expect(subscriber.disconnect).toHaveBeenCalledTimes(1);
    expect(publisherDisconnect).not.toHaveBeenCalled();
  });
});
