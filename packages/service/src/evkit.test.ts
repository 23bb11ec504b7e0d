import { Pool, type PoolClient } from 'pg';
import { createInMemoryRegistry } from '@evkit/codec';
import type { CloudEvent } from '@evkit/envelope';
import { createMemoryIdempotencyStore } from '@evkit/idempotency';
import type { Logger } from '@evkit/telemetry';
import { createInMemoryBroker } from '@evkit/transport';
import { createEvkit } from './evkit';
import { ServiceClosedError, ServiceConfigError, UnknownCatalogueTypeError } from './errors';

const OrderPlaced = {
  type: 'record',
  name: 'OrderPlaced',
  namespace: 'com.example.orders',
  fields: [
    { name: 'orderId', type: 'string' },
    { name: 'amountCents', type: 'long' },
  ],
} as const;
const OrderCancelled = { type: 'record', name: 'OrderCancelled', namespace: 'com.example.orders', fields: [{ name: 'orderId', type: 'string' }] } as const;

interface Events {
  'com.example.orders.order.placed': { orderId: string; amountCents: number };
  'com.example.orders.order.cancelled': { orderId: string };
}
const catalogue: { schemas: { [K in keyof Events]: object }; dataTypes?: Events } = {
  schemas: { 'com.example.orders.order.placed': OrderPlaced, 'com.example.orders.order.cancelled': OrderCancelled },
};

function setup() {
  const broker = createInMemoryBroker({ partitionsPerTopic: 2 });
  const made = { publishers: 0, subscribers: [] as ReturnType<typeof broker.subscriber>[] };
  const lines: { level: string; message: string; fields?: object }[] = [];
  const at = (level: string) => (message: string, fields?: object) => lines.push({ level, message, ...(fields ? { fields } : {}) });
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  const evkit = createEvkit({
    source: '/orders-service',
    catalogue,
    registry: createInMemoryRegistry({ globalCompatibility: 'BACKWARD_TRANSITIVE' }),
    logger,
    transports: {
      publisher: () => {
        made.publishers += 1;
        return broker.publisher();
      },
      subscriber: () => {
        const subscriber = broker.subscriber();
        made.subscribers.push(subscriber);
        return subscriber;
      },
    },
  });
  return { broker, evkit, made, lines };
}

describe('createEvkit', () => {
  it('publishes a catalogue event with its schema and key, and a consumer gets it typed, correlated and in order', async () => {
    const { broker, evkit } = setup();
    const seen: CloudEvent[] = [];
    const billing = evkit.consumer({ groupId: 'billing', topics: ['orders'], fromBeginning: true, retry: false });
    billing.on('com.example.orders.order.placed', async (event) => {
      seen.push(event);
    });
    await billing.start();
    const published = await evkit.publish('orders', { type: 'com.example.orders.order.placed', key: 'o-1', data: { orderId: 'o-1', amountCents: 1250 } });
    await evkit.publish('orders', { type: 'com.example.orders.order.placed', key: 'o-1', correlationid: 'request-7', data: { orderId: 'o-1', amountCents: 99 } });
    await broker.idle();
    expect(broker.topic('orders').records(published.position.partition).map((r) => r.key?.toString())).toEqual(['o-1', 'o-1']);
    expect(seen.map((e) => [e.data, e.partitionkey, e.source])).toEqual([
      [{ orderId: 'o-1', amountCents: 1250 }, 'o-1', '/orders-service'],
      [{ orderId: 'o-1', amountCents: 99 }, 'o-1', '/orders-service'],
    ]);
    expect(seen.map((e) => e.correlationid)).toEqual([published.event.id, 'request-7']);
    await evkit.close();
  });

  it('retries a failing handler through retry topics, then dead-letters it, once, while the partition goes on', async () => {
    const { broker, evkit } = setup();
    const attempts: string[] = [];
    const billing = evkit.consumer({ groupId: 'billing', topics: ['orders'], fromBeginning: true, retry: { attempts: 2, delaysMs: [1] } });
    billing.on('com.example.orders.order.placed', async (event) => {
      attempts.push(event.data.orderId);
      if (event.data.orderId === 'poison') throw new Error('cannot bill');
    });
    await billing.start();
    await evkit.publish('orders', { type: 'com.example.orders.order.placed', key: 'k', data: { orderId: 'poison', amountCents: 1 } });
    await evkit.publish('orders', { type: 'com.example.orders.order.placed', key: 'k', data: { orderId: 'fine', amountCents: 2 } });
    await waitFor(() => topicExists(broker, 'orders.billing.dlq') && broker.topic('orders.billing.dlq').records().length === 1);
    await broker.idle();
    expect(broker.topic('orders.billing.dlq').records()).toHaveLength(1);
    expect(attempts.filter((a) => a === 'poison')).toHaveLength(2);
    expect(attempts).toContain('fine');
    await evkit.close();
  });

  it('postgres.outboxTable is the table write() inserts into and migrate() creates', async () => {
    const statements: string[] = [];
    const db = { query: async (sql: string) => (statements.push(sql), { rows: [], rowCount: 1 }) };
    // A pool that never connects: every statement is recorded and answered with no rows.
    const pool = Object.assign(new Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none' }), {
      query: db.query,
      connect: async () => ({ query: db.query, release: () => undefined, on: () => undefined, off: () => undefined, removeListener: () => undefined }),
    });
    const broker = createInMemoryBroker({ partitionsPerTopic: 2 });
    const evkit = createEvkit({
      source: '/orders-service',
      catalogue,
      registry: createInMemoryRegistry(),
      postgres: { pool: pool as unknown as Pool, outboxTable: 'orders.demo_outbox' },
      transports: { publisher: () => broker.publisher(), subscriber: () => broker.subscriber() },
    });
    const tx = { ...db, getTransactionStatus: () => 'T' } as unknown as PoolClient;
    await evkit.write(tx, 'orders', { type: 'com.example.orders.order.placed', key: 'o-1', data: { orderId: 'o-1', amountCents: 5 } });
    await evkit.migrate();
    expect(statements.find((sql) => /INSERT INTO/i.test(sql))).toContain('"orders"."demo_outbox"');
    expect(statements.find((sql) => /CREATE TABLE/i.test(sql) && /outbox/.test(sql))).toContain('"orders"."demo_outbox"');
    await evkit.close();
    const base = { source: '/s', catalogue, registry: createInMemoryRegistry(), kafka: { brokers: ['127.0.0.1:1'] } };
    expect(() => createEvkit({ ...base, postgres: { connectionString: 'postgres://h/db', outboxTable: '' } })).toThrow('postgres must be with outboxTable a non-empty string');
  });

  it('dedupe: { store } hands the consumer what it returns, made from the store on processedEventsTable', async () => {
    // Never connected: the wrapper below replaces the PostgreSQL store, so no query reaches it.
    const pool = new Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none' });
    const broker = createInMemoryBroker({ partitionsPerTopic: 2 });
    const evkit = createEvkit({
      source: '/orders-service',
      catalogue,
      registry: createInMemoryRegistry(),
      postgres: { pool, processedEventsTable: 'billing.processed_events' },
      transports: { publisher: () => broker.publisher(), subscriber: () => broker.subscriber() },
    });
    const wrapped: string[] = [];
    const memory = createMemoryIdempotencyStore();
    const handled: string[] = [];
    const billing = evkit.consumer({
      groupId: 'billing',
      topics: ['orders'],
      fromBeginning: true,
      retry: false,
      dedupe: {
        store: (store) => {
          wrapped.push(store.table);
          return memory;
        },
      },
    });
    billing.on('com.example.orders.order.placed', async (event, context) => {
      const tx: PoolClient = context.transaction; // the type a consumer with dedupe has
      expect(tx).toBeUndefined(); // the memory store's work runs outside any transaction
      handled.push(event.id);
    });
    await billing.start();
    const event = { type: 'com.example.orders.order.placed', key: 'o-1', id: 'evt-1', data: { orderId: 'o-1', amountCents: 5 } } as const;
    await evkit.publish('orders', event);
    await evkit.publish('orders', event); // the same id again: absorbed by the store returned
    await broker.idle();
    expect(broker.topic('orders').records()).toHaveLength(2);
    expect(handled).toEqual(['evt-1']);
    expect(wrapped).toEqual(['billing.processed_events']);
    await evkit.close();
    await pool.end();
  });

  it('refuses an event type that is not in the catalogue, with a typed error, before anything is sent', async () => {
    const { broker, evkit } = setup();
    const bogus = { type: 'com.example.orders.order.lost', data: {} } as unknown as Parameters<typeof evkit.publish>[1];
    await expect(evkit.publish('orders', bogus)).rejects.toThrow(UnknownCatalogueTypeError);
    await expect(evkit.publish('orders', bogus)).rejects.toThrow(/not in the catalogue \(com\.example\.orders\.order\.placed, com\.example\.orders\.order\.cancelled\)/);
    expect(() => broker.topic('orders')).toThrow();
    await evkit.close();
  });

  it('publishBatch sends catalogue events in order, each with its schema, and refuses the whole batch for one unknown type', async () => {
    const { broker, evkit } = setup();
    const published = await evkit.publishBatch('orders', [
      { type: 'com.example.orders.order.placed', key: 'o-1', data: { orderId: 'o-1', amountCents: 1 } },
      { type: 'com.example.orders.order.cancelled', key: 'o-1', data: { orderId: 'o-1' } },
    ]);
    expect(published.map((p) => p.event.type)).toEqual(['com.example.orders.order.placed', 'com.example.orders.order.cancelled']);
    expect(published[1]!.position.offset > published[0]!.position.offset).toBe(true);
    const bogus = { type: 'com.example.orders.order.lost', key: 'o-2', data: {} } as unknown as Parameters<typeof evkit.publish>[1];
    const fine = { type: 'com.example.orders.order.cancelled', key: 'o-2', data: { orderId: 'o-2' } } as const;
    await expect(evkit.publishBatch('orders', [fine, bogus])).rejects.toThrow(UnknownCatalogueTypeError);
    await broker.idle();
    expect(broker.topic('orders').records(published[0]!.position.partition)).toHaveLength(2); // nothing of the refused batch
    await evkit.close();
  });

  it('close() stops consumers and disconnects every transport it made; afterwards nothing is created', async () => {
    const { evkit, made } = setup();
    const billing = evkit.consumer({ groupId: 'billing', topics: ['orders'], retry: { attempts: 2 } });
    billing.on('com.example.orders.order.cancelled', async () => {});
    await billing.start();
    await evkit.publish('orders', { type: 'com.example.orders.order.cancelled', key: 'o', data: { orderId: 'o' } });
    expect(made.publishers).toBe(2); // the producer's and the one for retries and dead letters
    await evkit.close();
    await evkit.close(); // idempotent
    await expect(evkit.publish('orders', { type: 'com.example.orders.order.cancelled', key: 'o', data: { orderId: 'o' } })).rejects.toThrow(ServiceClosedError);
    expect(() => evkit.consumer({ groupId: 'g', topics: ['orders'] })).toThrow(ServiceClosedError);
  });

  it('validates its options at the edge, naming the option', () => {
    const base = { source: '/s', catalogue, registry: createInMemoryRegistry(), kafka: { brokers: ['127.0.0.1:1'] } };
    expect(() => createEvkit({ ...base, source: '' })).toThrow(new ServiceConfigError('createEvkit: source must be a non-empty string'));
    expect(() => createEvkit({ ...base, catalogue: { schemas: {} } })).toThrow('catalogue must be a catalogue with at least one event type');
    expect(() => createEvkit({ ...base, kafka: undefined })).toThrow('give kafka (Kafka connection options) or transports, one of them');
    expect(() => createEvkit({ ...base, postgres: { connectionString: '' } })).toThrow('postgres must be');
    expect(() => createEvkit({ ...base, postgres: { connectionString: 'postgres://h/db', processedEventsTable: '' } })).toThrow(
      'postgres must be with processedEventsTable a non-empty string',
    );
    const evkit = createEvkit(base);
    expect(() => evkit.consumer({ groupId: 'g', topics: [] })).toThrow('consumer: topics must be a list of one or more topic names');
    expect(() => evkit.consumer({ groupId: 'g', topics: ['t'], dedupe: true as false })).toThrow('consumer: dedupe needs the postgres option of createEvkit');
    expect(() => evkit.consumer({ groupId: 'g', topics: ['t'], retry: 3 as unknown as false })).toThrow('consumer: retry must be false or { attempts, delaysMs, mode, jitter }');
    expect(() => evkit.consumer({ groupId: 'g', topics: ['t'], dedupe: { store: 'x' } as unknown as false })).toThrow('consumer: dedupe must be a boolean or { store }, store a function');
    expect(() => evkit.consumer({ groupId: 'g', topics: ['t'], dedupe: { store: (s: unknown) => s } as unknown as false })).toThrow('consumer: dedupe needs the postgres option of createEvkit');
  });
});

function topicExists(broker: ReturnType<typeof createInMemoryBroker>, name: string): boolean {
  try {
    broker.topic(name);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
