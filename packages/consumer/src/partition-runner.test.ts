import { createAvroCodec, createInMemoryRegistry } from '@evkit/codec';
import { createEvent } from '@evkit/envelope';
import { createInMemoryBroker, type IncomingRecord } from '@evkit/transport';
import { createConsumer } from './consumer';
import { queuesByKey, Semaphore } from './partition-runner';

const schema = { type: 'record', name: 'Tick', fields: [{ name: 'key', type: 'string' }, { name: 'seq', type: 'int' }] };
const TYPE = 'dev.evkit.tick';

const record = (offset: string, key: string | null): IncomingRecord => ({ topic: 't', partition: 0, offset, key, value: null, headers: {}, timestamp: 0 });

describe('queuesByKey', () => {
  it('makes one queue per key in offset order; keyless records share one', () => {
    const queues = queuesByKey([record('1', 'a'), record('2', 'b'), record('3', 'a'), record('4', null), record('5', null)]);
    expect(queues.map((q) => q.map((r) => r.offset))).toEqual([['1', '3'], ['2'], ['4', '5']]);
  });
});

describe('Semaphore', () => {
  it('lets `n` holders in and the next one when a holder releases', async () => {
    const slots = new Semaphore(1);
    await slots.acquire();
    let second = false;
    const waiting = slots.acquire().then(() => (second = true));
    await new Promise((r) => setImmediate(r));
    expect(second).toBe(false);
    slots.release();
    await waiting;
    expect(second).toBe(true);
  });
});

async function consume(options: { failCommit?: boolean; failKey?: string }) {
  const broker = createInMemoryBroker({ partitionsPerTopic: 1 });
  broker.createTopic('ticks', 1);
  const codec = createAvroCodec({ registry: createInMemoryRegistry() });
  const keys = ['a', 'b', 'c'];
  const events = Array.from({ length: 9 }, (_, seq) => createEvent({ source: '/t', type: TYPE, partitionkey: keys[seq % 3]!, data: { key: keys[seq % 3]!, seq } }));
  await broker.publisher().send(await Promise.all(events.map(async (e) => ({ topic: 'ticks', ...(await codec.encode('ticks', e, schema)) }))));
  if (options.failCommit) broker.failNextCommit(new Error('commit refused'));
  const handled: number[] = [];
  const errors: unknown[] = [];
  let failedOnce = false;
  const consumer = createConsumer({
    groupId: 'g',
    topics: ['ticks'],
    codec,
    transport: broker.subscriber(),
    fromBeginning: true,
    keyConcurrency: 3,
    failureBackoff: { initialMs: 5, maxMs: 5 },
    onError: (error) => errors.push(error),
  }).on<{ key: string; seq: number }>(TYPE, async (event) => {
    if (event.data.key === options.failKey && !failedOnce) {
      failedOnce = true;
      throw new Error('fails once');
    }
    handled.push(event.data.seq);
  });
  await consumer.start();
  const deadline = Date.now() + 5000;
  while (broker.committed('g', 'ticks', 0) !== '9') {
    if (Date.now() > deadline) throw new Error(`committed ${broker.committed('g', 'ticks', 0)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  await consumer.stop();
  return { handled, errors };
}

describe('PartitionRunner', () => {
  it('backs off a failed offset commit itself and delivers again from the last offset committed', async () => {
    const { handled, errors } = await consume({ failCommit: true });
    expect(errors.map((e) => (e as Error).message)).toEqual(['commit refused']);
    // Nothing had been committed: the whole batch came again (dedupe would absorb it), then committed.
    expect(handled.sort((a, b) => a - b)).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8]);
  });

  it('stops only the failed key: the other keys of the partition are handled once, the failed one from its record on', async () => {
    const { handled, errors } = await consume({ failKey: 'b' });
    expect(errors).toHaveLength(1);
    const count = (seq: number) => handled.filter((s) => s === seq).length;
    // Key b is seq 1, 4, 7: its first record failed, so b is handled once from 1 on after the redelivery.
    expect([1, 4, 7].map(count)).toEqual([1, 1, 1]);
    expect(handled.filter((s) => s % 3 === 1)).toEqual([1, 4, 7]); // b in order
    // a and c finished in the first delivery, but the commit stopped at b's gap: redelivered.
    expect([0, 3, 6, 2, 5, 8].every((s) => count(s) >= 1)).toBe(true);
  });
});
