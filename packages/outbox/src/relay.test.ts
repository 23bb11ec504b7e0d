import { EventEmitter } from 'node:events';
import type { Pool } from 'pg';
import { createInMemoryBroker, TransportSendError, type OutgoingRecord, type PublisherTransport } from '@evkit/transport';
import { OutboxConfigError } from './errors';
import { createPollingRelay } from './relay';
import { createOutboxCleaner, createOutboxLagMonitor, startOutboxRetention } from './housekeeping';

const row = (id: string, aggregateid: string, extra: Record<string, string> = {}) => ({
  id,
  topic: 'orders',
  payload: Buffer.from([0, 0, 0, 0, 1, 2]),
  source: '/s',
  specversion: '1.0',
  type: 't',
  subject: null,
  time: '2025-01-01T00:00:00.000Z',
  datacontenttype: 'application/avro',
  dataschema: null,
  correlationid: null,
  causationid: null,
  aggregateid,
  traceparent: null,
  tracestate: null,
  ...extra,
});

/** A pool whose one client answers the relay's statements from `rows`, and logs them. */
function fakePool(rows: ReturnType<typeof row>[]) {
  const log: string[] = [];
  const client = Object.assign(new EventEmitter(), {
    query: async (text: string) => {
      if (text.startsWith('LISTEN')) return { rows: [] };
      const statement = text.startsWith('SELECT head.') ? 'claim' : text.startsWith('SELECT') ? 'rows' : text.split(' ')[0]!;
      log.push(statement);
      if (statement === 'claim') return { rows: rows.map((r) => ({ aggregatetype: 'order', aggregateid: r.aggregateid })) };
      if (statement === 'rows') return { rows };
      return { rows: [], rowCount: rows.length };
    },
    release: () => {},
  });
  const pool = { connect: async () => client, query: client.query } as unknown as Pool;
  return { pool, log };
}

describe('createPollingRelay', () => {
  it('sends the stored bytes and the non-null headers in the envelope\'s order, then marks and commits', async () => {
    const { pool, log } = fakePool([row('a', 'o-1', { subject: 'order/o-1' }), row('b', 'o-2')]);
    const broker = createInMemoryBroker({ partitionsPerTopic: 1 });
    const relay = createPollingRelay({ pool, transport: broker.publisher(), onError: (e) => { throw e; } });
    expect(await relay.relayBatch()).toBe(2);
    expect(log).toEqual(['BEGIN', 'claim', 'rows', 'UPDATE', 'COMMIT']);
    const [first, second] = broker.topic('orders').records();
    expect(first!.key?.toString()).toBe('o-1');
    expect(first!.value).toEqual(Buffer.from([0, 0, 0, 0, 1, 2]));
    expect(Object.keys(first!.headers)).toEqual(['ce_id', 'ce_source', 'ce_specversion', 'ce_type', 'ce_subject', 'ce_time', 'content-type', 'ce_partitionkey']);
    expect(second!.headers).not.toHaveProperty('ce_subject');
  });

  it('rolls back when the broker does not acknowledge, reports it, and keeps going', async () => {
    const { pool, log } = fakePool([row('a', 'o-1')]);
    const failure = new TransportSendError('not acknowledged', { retriable: true, outcomeUnknown: true });
    const transport: PublisherTransport = { connect: async () => {}, send: async (_: readonly OutgoingRecord[]) => Promise.reject(failure), disconnect: async () => {} };
    const errors: unknown[] = [];
    const relay = createPollingRelay({ pool, transport, intervalMs: 5, onError: (e) => errors.push(e) });
    relay.start();
    while (errors.length < 2) await new Promise((r) => setTimeout(r, 5));
    await relay.stop();
    expect(errors[0]).toBe(failure);
    expect(log.slice(0, 4)).toEqual(['BEGIN', 'claim', 'rows', 'ROLLBACK']);
    expect(log).not.toContain('UPDATE');
  });

  it('commits an empty claim without sending', async () => {
    const { pool, log } = fakePool([]);
    const relay = createPollingRelay({ pool, transport: createInMemoryBroker().publisher(), onError: () => {} });
    expect(await relay.relayBatch()).toBe(0);
    expect(log).toEqual(['BEGIN', 'claim', 'COMMIT']);
  });

  it('validates its options at the edge', () => {
    const { pool } = fakePool([]);
    const transport = createInMemoryBroker().publisher();
    const onError = () => {};
    expect(() => createPollingRelay({ pool: {} as Pool, transport, onError })).toThrow(/pool must be a pg Pool/);
    expect(() => createPollingRelay({ pool, onError })).toThrow(/exactly one of transport and kafka/);
    expect(() => createPollingRelay({ pool, transport, kafka: { brokers: ['x'] }, onError })).toThrow(/exactly one/);
    expect(() => createPollingRelay({ pool, kafka: { brokers: ['x'] }, client: 'rdkafka' as 'kafkajs', onError })).toThrow(/client must be one of kafkajs, platformatic, got "rdkafka"/);
    expect(() => createPollingRelay({ pool, transport, onError, batchSize: 0 })).toThrow(/batchSize/);
    expect(() => createPollingRelay({ pool, transport, onError, intervalMs: 1.5 })).toThrow(/intervalMs/);
    expect(() => createPollingRelay({ pool, transport } as never)).toThrow(/onError is required/);
    expect(() => createPollingRelay({ pool, transport, onError, table: 'X' })).toThrow(OutboxConfigError);
    expect(() => createPollingRelay({ pool, transport, onError, listen: 'yes' as never })).toThrow(/listen must be a boolean/);
    const single = Object.assign(Object.create(pool) as object, { options: { max: 1 } }) as Pool;
    expect(() => createPollingRelay({ pool: single, transport, onError })).toThrow(/give a pool of 2 or more, or listen: false/);
    expect(() => createPollingRelay({ pool: single, transport, onError, listen: false })).not.toThrow();
  });
});

describe('waking on NOTIFY', () => {
  /** A pool of fake clients: batches find nothing; the one that ran LISTEN can be notified. */
  function wakePool() {
    let batches = 0;
    const hooks: { onClaim?: () => void } = {};
    const clients: (EventEmitter & { query: jest.Mock; release: jest.Mock })[] = [];
    const pool = {
      connect: async () => {
        const client = Object.assign(new EventEmitter(), {
          query: jest.fn(async (text: string) => {
            if (text.startsWith('SELECT head.')) {
              batches += 1;
              hooks.onClaim?.();
            }
            return { rows: [] };
          }),
          release: jest.fn(),
        });
        clients.push(client);
        return client;
      },
      query: async () => ({ rows: [] }),
    } as unknown as Pool;
    const listeners = () => clients.filter((c) => c.query.mock.calls.some(([text]) => String(text).startsWith('LISTEN')));
    return {
      pool,
      hooks,
      listeners,
      batches: () => batches,
      notify: (channel = 'evkit_outbox_wake') => listeners().at(-1)!.emit('notification', { channel, processId: 1 }),
    };
  }

  const until = async (condition: () => boolean) => {
    for (let i = 0; i < 200 && !condition(); i += 1) await new Promise((r) => setTimeout(r, 5));
    expect(condition()).toBe(true);
  };

  it('listens on the table\'s channel, runs a batch on each notification, and not on other channels', async () => {
    const { pool, listeners, batches, notify } = wakePool();
    const relay = createPollingRelay({ pool, transport: createInMemoryBroker().publisher(), intervalMs: 60_000, onError: (e) => { throw e; } });
    relay.start();
    await until(() => listeners().length === 1);
    const listening = listeners()[0]!;
    expect(listening.query.mock.calls).toEqual([['LISTEN "evkit_outbox_wake"']]);
    // The first batch at start and one after LISTEN succeeded (nothing committed meanwhile is missed).
    await until(() => batches() === 2);
    notify('some_other_channel');
    await new Promise((r) => setTimeout(r, 30));
    expect(batches()).toBe(2);
    notify();
    await until(() => batches() === 3);
    notify();
    await until(() => batches() === 4);
    await relay.stop();
    expect(listening.release).toHaveBeenCalledWith(true);
    expect(listening.listenerCount('notification')).toBe(0);
  });

  it('a notification during a batch (after its snapshot) runs one more batch right after it', async () => {
    const { pool, hooks, batches, notify } = wakePool();
    const relay = createPollingRelay({ pool, transport: createInMemoryBroker().publisher(), intervalMs: 60_000, onError: (e) => { throw e; } });
    relay.start();
    await until(() => batches() === 2);
    let once = true;
    hooks.onClaim = () => {
      if (once) {
        once = false;
        notify(); // a commit seen by this claim's snapshot or not: either way it must not wait 60 s
      }
    };
    notify();
    await until(() => batches() === 4);
    await relay.stop();
  });

  it('connects again after losing the listening connection, reports it, and runs a batch', async () => {
    const { pool, listeners, batches } = wakePool();
    const errors: unknown[] = [];
    const relay = createPollingRelay({ pool, transport: createInMemoryBroker().publisher(), intervalMs: 10, onError: (e) => errors.push(e) });
    relay.start();
    await until(() => listeners().length === 1);
    const listening = listeners()[0]!;
    await until(() => batches() >= 2);
    const before = batches();
    listening.emit('error', Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }));
    expect(listening.release).toHaveBeenCalledWith(expect.any(Error));
    expect(listening.listenerCount('notification')).toBe(0);
    await until(() => listeners().length === 2);
    const second = listeners()[1]!;
    await until(() => batches() > before);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'EVKIT_OUTBOX_DATABASE_FAILED', retriable: true });
    await relay.stop();
    expect(second.release).toHaveBeenCalledWith(true);
  });

  it('keeps trying to listen when LISTEN fails, and relays by the interval meanwhile', async () => {
    const { pool, batches } = wakePool();
    const connect = pool.connect.bind(pool);
    let attempts = 0;
    (pool as unknown as { connect: () => Promise<unknown> }).connect = async () => {
      const client = (await connect()) as unknown as { query: jest.Mock };
      const query = client.query.getMockImplementation()! as (text: string) => Promise<unknown>;
      client.query.mockImplementation(async (text: string) => {
        if (text.startsWith('LISTEN')) {
          attempts += 1;
          throw Object.assign(new Error('LISTEN is not supported in transaction pooling mode'), { code: '0A000' });
        }
        return query(text);
      });
      return client;
    };
    const errors: unknown[] = [];
    const relay = createPollingRelay({ pool, transport: createInMemoryBroker().publisher(), intervalMs: 5, onError: (e) => errors.push(e) });
    relay.start();
    await until(() => attempts >= 2 && batches() >= 3);
    await relay.stop();
    expect(errors[0]).toMatchObject({ code: 'EVKIT_OUTBOX_DATABASE_FAILED', retriable: false });
    expect(String((errors[0] as Error).message)).toMatch(/listen on evkit_outbox_wake/);
  });

  it('with listen: false holds no listening connection', async () => {
    const { pool, listeners, batches } = wakePool();
    const relay = createPollingRelay({ pool, transport: createInMemoryBroker().publisher(), intervalMs: 5, listen: false, onError: (e) => { throw e; } });
    relay.start();
    await until(() => batches() >= 2);
    await relay.stop();
    expect(listeners()).toHaveLength(0);
  });
});

describe('housekeeping options', () => {
  const { pool } = fakePool([]);
  it('validates at the edge', () => {
    expect(() => createOutboxCleaner({ pool, relay: 'kafka' as never })).toThrow(/relay must be "polling" or "debezium"/);
    expect(() => createOutboxCleaner({ pool, relay: 'polling', deleteBatchSize: 0 })).toThrow(/deleteBatchSize/);
    expect(() => startOutboxRetention({ pool, relay: 'polling', maxAgeMs: -1, intervalMs: 1000, onError: () => {} })).toThrow(/maxAgeMs/);
    expect(() => startOutboxRetention({ pool, relay: 'polling', maxAgeMs: 0, intervalMs: 1000 } as never)).toThrow(/onError is required/);
    expect(() => createOutboxLagMonitor({ pool, relay: 'debezium' })).toThrow(/slotName is required/);
  });
});
