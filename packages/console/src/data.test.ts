import { createInMemoryBroker, type IncomingRecord } from '@evkit/transport';
import { createFailureRouting } from '@evkit/retry';
import { createConsoleData } from './data';
import { resolveOptions, type ConsoleOptions } from './options';

// The replay goes through the transports given (another Kafka client's, as the CLI's
// EVKIT_TRANSPORT picks), not KafkaJS: here an in-memory broker stands for that client.

const base: ConsoleOptions = {
  kafka: { brokers: ['127.0.0.1:1'] },
  registry: { url: 'http://127.0.0.1:1' },
  lag: () => Promise.resolve({ groupId: 'g', state: 'Stable', partitions: [] }),
  diffSchemas: () => [],
};

describe('createConsoleData with transports', () => {
  it('lists and replays dead letters through the transports given, and disconnects the publisher it made on close', async () => {
    const broker = createInMemoryBroker({ partitionsPerTopic: 1 });
    broker.createTopic('orders', 1);
    const routing = createFailureRouting({ publisher: broker.publisher(), groupId: 'billing', maxAttempts: 1 });
    const source: IncomingRecord = { topic: 'orders', partition: 0, offset: '0', timestamp: 0, key: Buffer.from('o-1'), value: Buffer.from('v'), headers: { ce_id: 'id-1' } };
    await routing.deadLetter(source, new Error('carrier refused'), { groupId: 'billing', reason: 'handler', handler: 'h', attempts: 1 });

    const publisher = broker.publisher();
    const disconnect = jest.spyOn(publisher, 'disconnect');
    const made = { publisher: 0, subscriber: 0 };
    const data = createConsoleData(
      resolveOptions({
        ...base,
        transports: {
          publisher: () => ((made.publisher += 1), publisher),
          subscriber: () => ((made.subscriber += 1), broker.subscriber()),
        },
      }),
    );
    expect((await data.replayer.list('orders.billing.dlq')).map((e) => e.eventId)).toEqual(['id-1']);
    expect(await data.replayer.replay('orders.billing.dlq')).toMatchObject({ matched: 1, replayed: 1 });
    broker.createTopic('orders.billing.replay');
    expect(broker.topic('orders.billing.replay').records().map((r) => String(r.headers.ce_id))).toEqual(['id-1']);
    expect(made.publisher).toBe(1);
    expect(made.subscriber).toBeGreaterThan(0);
    await data.close();
    expect(disconnect).toHaveBeenCalledTimes(1);
  });

  it('refuses transports without both factories', () => {
    expect(() => resolveOptions({ ...base, transports: { publisher: () => createInMemoryBroker().publisher() } as never })).toThrow(/transports must have publisher and subscriber functions/);
    expect(() => resolveOptions({ ...base, transports: null as never })).toThrow(/transports must have/);
  });
});
