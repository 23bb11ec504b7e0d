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
  const client = {
    query: async (text: string) => {
      const statement = text.startsWith('SELECT head.') ? 'claim' : text.startsWith('SELECT') ? 'rows' : text.split(' ')[0]!;
      log.push(statement);
      if (statement === 'claim') return { rows: rows.map((r) => ({ aggregatetype: 'order', aggregateid: r.aggregateid })) };
      if (statement === 'rows') return { rows };
      return { rows: [], rowCount: rows.length };
    },
    release: () => {},
  };
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
    expect(() => createPollingRelay({ pool, transport, onError, batchSize: 0 })).toThrow(/batchSize/);
    expect(() => createPollingRelay({ pool, transport, onError, intervalMs: 1.5 })).toThrow(/intervalMs/);
    expect(() => createPollingRelay({ pool, transport } as never)).toThrow(/onError is required/);
    expect(() => createPollingRelay({ pool, transport, onError, table: 'X' })).toThrow(OutboxConfigError);
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
