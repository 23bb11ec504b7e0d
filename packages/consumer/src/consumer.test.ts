import { createAvroCodec, createInMemoryRegistry } from '@evkit/codec';
import { correlationFor, createEvent, type CloudEvent } from '@evkit/envelope';
import { createMemoryIdempotencyStore, type BatchingIdempotencyStore } from '@evkit/idempotency';
import type { Logger } from '@evkit/telemetry';
import { createInMemoryBroker, TransportConnectError, type InMemoryBroker } from '@evkit/transport';
import { createConsumer } from './consumer';
import type { ConsumerOptions } from './options';
import { ConsumerConfigError } from './errors';
import type { EventHandler, Middleware } from './handler';
import type { IncomingRecord } from '@evkit/transport';

/** A pass-through failure routing whose only part is `deferUntil`: how a retry tier holds records back. */
function deferring(deferUntil: (record: IncomingRecord) => number | undefined): Middleware {
  return Object.assign((next: Parameters<Middleware>[0]) => next, {
    failureRouting: { groupId: 'billing', topicsFor: () => ({ subscribe: [], ensure: [] }), deferUntil, deadLetter: { deadLetter: async () => {} } },
  });
}

const orderPlaced = {
  type: 'record',
  name: 'OrderPlaced',
  namespace: 'com.example.orders',
  fields: [
    { name: 'orderId', type: 'string' },
    { name: 'seq', type: 'int' },
  ],
};
const orderPlacedV2 = { ...orderPlaced, fields: [...orderPlaced.fields, { name: 'channel', type: 'string', default: 'web' }] };
const ORDER_PLACED = 'com.example.order.placed';

interface Harness {
  broker: InMemoryBroker;
  codec: ReturnType<typeof createAvroCodec>;
  publish(events: { key: string; seq: number; type?: string; id?: string }[]): Promise<CloudEvent[]>;
  logs: { level: string; message: string; fields: Record<string, unknown> | undefined }[];
  logger: Logger;
  consumer(options?: Partial<ConsumerOptions>): ReturnType<typeof createConsumer>;
}

function harness(topic = 'orders'): Harness {
  const broker = createInMemoryBroker({ partitionsPerTopic: 3 });
  const codec = createAvroCodec({ registry: createInMemoryRegistry() });
  const publisher = broker.publisher();
  const logs: Harness['logs'] = [];
  const logAt = (level: string) => (message: string, fields?: Record<string, unknown>) => logs.push({ level, message, fields });
  const logger: Logger = { debug: logAt('debug'), info: logAt('info'), warn: logAt('warn'), error: logAt('error') };
  return {
    broker,
    codec,
    logs,
    logger,
    async publish(specs) {
      const events = specs.map((s) =>
        createEvent({ ...(s.id ? { id: s.id } : {}), source: '/orders', type: s.type ?? ORDER_PLACED, partitionkey: s.key, data: { orderId: s.key, seq: s.seq } }),
      );
      const records = await Promise.all(events.map(async (e) => ({ topic, ...(await codec.encode(topic, e, orderPlaced)) })));
      await publisher.send(records);
      return events;
    },
    consumer(options = {}) {
      return createConsumer({ groupId: 'billing', topics: [topic], codec, transport: broker.subscriber(), fromBeginning: true, logger, ...options });
    },
  };
}

type OrderData = { orderId: string; seq: number; channel?: string };

describe('consumer', () => {
  it('routes each event type to its handler, decodes into the reader schema, and commits what it handled', async () => {
    const h = harness();
    await h.publish([{ key: 'o-1', seq: 1 }, { key: 'o-2', seq: 1 }]);
    const seen: OrderData[] = [];
    const consumer = h.consumer().on<OrderData>(ORDER_PLACED, async (event, context) => {
      seen.push(event.data);
      expect(context.groupId).toBe('billing');
      expect(context.schemaId).toBeGreaterThan(0);
    }, { readerSchema: orderPlacedV2 });
    await consumer.start();
    await h.broker.idle();
    expect(seen.sort((a, b) => a.orderId.localeCompare(b.orderId))).toEqual([
      { orderId: 'o-1', seq: 1, channel: 'web' },
      { orderId: 'o-2', seq: 1, channel: 'web' },
    ]);
    expect((await consumer.lag()).reduce((sum, p) => sum + p.offsetLag, 0)).toBe(0);
    await consumer.stop();
  });

  it('skips unknown event types with a warning and commits past them', async () => {
    const h = harness();
    await h.publish([{ key: 'o-1', seq: 1, type: 'com.example.order.unknown' }, { key: 'o-1', seq: 2 }]);
    const seen: number[] = [];
    const consumer = h.consumer().on<OrderData>(ORDER_PLACED, async (event) => void seen.push(event.data.seq));
    await consumer.start();
    await h.broker.idle();
    expect(seen).toEqual([2]);
    expect(h.logs.some((l) => l.level === 'warn' && l.message.includes('no handler'))).toBe(true);
    expect((await consumer.lag()).every((p) => p.offsetLag === 0)).toBe(true);
    await consumer.stop();
  });

  it('with unknownEventTypes: fail, stops the partition on an unknown type and reports it', async () => {
    const h = harness();
    await h.publish([{ key: 'o-1', seq: 1, type: 'com.example.order.unknown' }]);
    const errors: unknown[] = [];
    const consumer = h
      .consumer({ unknownEventTypes: 'fail', onError: (e) => errors.push(e), failureBackoff: { initialMs: 5, maxMs: 5 } })
      .on(ORDER_PLACED, async () => {});
    await consumer.start();
    await waitFor(() => errors.length >= 2);
    await consumer.stop();
    expect(errors[0]).toMatchObject({ code: 'EVKIT_CONSUMER_UNKNOWN_EVENT_TYPE', eventType: 'com.example.order.unknown' });
    expect((await consumer.lag()).reduce((sum, p) => sum + p.offsetLag, 0)).toBe(1);
  });

  it('absorbs duplicate deliveries: side effects happen once per event id', async () => {
    const h = harness();
    const store = createMemoryIdempotencyStore();
    const [first] = await h.publish([{ key: 'o-1', seq: 1 }]);
    await h.publish([{ key: 'o-1', seq: 1, id: first!.id }, { key: 'o-1', seq: 1, id: first!.id }]); // the same event re-sent twice
    const effects: string[] = [];
    let duplicates = 0;
    const consumer = h
      .consumer({ idempotency: store, middleware: [(next) => async (event, context) => {
        await next(event, context);
        if (context.duplicate) duplicates += 1;
      }] })
      .on(ORDER_PLACED, async (event) => void effects.push(event.id));
    await consumer.start();
    await h.broker.idle();
    await consumer.stop();
    expect(effects).toEqual([first!.id]);
    expect(duplicates).toBe(2);
  });

  it('redelivers from a failed record without losing or reordering anything, and leaves no dedupe row for the failure', async () => {
    const h = harness();
    const store = createMemoryIdempotencyStore();
    await h.publish(Array.from({ length: 30 }, (_, i) => ({ key: `o-${i % 3}`, seq: i })));
    const handled: { key: string; seq: number }[] = [];
    let failOnce = true;
    const consumer = h.consumer({ idempotency: store, failureBackoff: { initialMs: 1, maxMs: 1 } }).on<OrderData>(ORDER_PLACED, async (event) => {
      if (event.data.seq === 13 && failOnce) {
        failOnce = false;
        expect(store.size()).toBeGreaterThan(0);
        throw new Error('payment service down');
      }
      handled.push({ key: event.data.orderId, seq: event.data.seq });
    });
    await consumer.start();
    await h.broker.idle();
    await waitFor(() => handled.length === 30);
    await h.broker.idle();
    await consumer.stop();
    expect(handled.map((h) => h.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    for (const key of ['o-0', 'o-1', 'o-2']) {
      const seqs = handled.filter((x) => x.key === key).map((x) => x.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
    expect(store.size()).toBe(30);
    expect(h.logs.some((l) => l.level === 'error' && l.message.includes('handling failed'))).toBe(true);
  });

  it('keeps per-key order with concurrency across keys, and bounds work in flight', async () => {
    const h = harness();
    const events = Array.from({ length: 600 }, (_, i) => ({ key: `k-${i % 40}`, seq: i }));
    await h.publish(events);
    const lastSeq = new Map<string, number>();
    let violations = 0;
    let inFlight = 0;
    let maxSeen = 0;
    const handler: EventHandler<OrderData> = async (event) => {
      inFlight += 1;
      maxSeen = Math.max(maxSeen, inFlight);
      await new Promise((r) => setTimeout(r, Math.random() * 2));
      const previous = lastSeq.get(event.data.orderId) ?? -1;
      if (event.data.seq < previous) violations += 1;
      lastSeq.set(event.data.orderId, event.data.seq);
      inFlight -= 1;
    };
    const consumer = h.consumer({ keyConcurrency: 8, maxInFlight: 10 }).on(ORDER_PLACED, handler);
    await consumer.start();
    await waitFor(async () => (await consumer.lag()).every((p) => p.offsetLag === 0), 20_000);
    await consumer.stop();
    expect(violations).toBe(0);
    expect(maxSeen).toBeGreaterThan(3); // concurrency really happened
    expect(maxSeen).toBeLessThanOrEqual(10);
  });

  it('gives events published inside a handler the handled event’s correlation and causation', async () => {
    const h = harness();
    const [root] = await h.publish([{ key: 'o-1', seq: 1 }]);
    let derived: { correlationid?: string; causationid?: string } = {};
    const consumer = h.consumer().on(ORDER_PLACED, async () => {
      await Promise.resolve();
      derived = correlationFor({}, 'unused');
    });
    await consumer.start();
    await h.broker.idle();
    await consumer.stop();
    expect(derived).toEqual({ correlationid: root!.id, causationid: root!.id });
  });

  it('times out a slow handler, aborts its signal, and retries it', async () => {
    const h = harness();
    await h.publish([{ key: 'o-1', seq: 1 }]);
    const signals: AbortSignal[] = [];
    let calls = 0;
    const consumer = h.consumer({ handlerTimeoutMs: 20, failureBackoff: { initialMs: 1, maxMs: 1 } }).on(ORDER_PLACED, async (_event, context) => {
      calls += 1;
      signals.push(context.signal);
      if (calls === 1) await new Promise((r) => setTimeout(r, 60));
    });
    await consumer.start();
    await waitFor(() => calls >= 2);
    await h.broker.idle();
    await consumer.stop();
    expect(signals[0]!.aborted).toBe(true);
    expect(signals[0]!.reason).toMatchObject({ code: 'EVKIT_CONSUMER_HANDLER_TIMEOUT' });
    expect(signals[1]!.aborted).toBe(false);
  });

  it('reports offset and time lag for a partition stuck on a failing record', async () => {
    const writtenAt = Date.now() - 10_000; // the record is ten seconds old
    const broker = createInMemoryBroker({ partitionsPerTopic: 1, now: () => writtenAt });
    const codec = createAvroCodec({ registry: createInMemoryRegistry() });
    const event = createEvent({ source: '/orders', type: ORDER_PLACED, partitionkey: 'o-1', data: { orderId: 'o-1', seq: 1 } });
    await broker.publisher().send([{ topic: 'orders', ...(await codec.encode('orders', event, orderPlaced)) }]);
    let attempts = 0;
    const consumer = createConsumer({
      groupId: 'billing',
      topics: ['orders'],
      codec,
      transport: broker.subscriber(),
      fromBeginning: true,
      failureBackoff: { initialMs: 200, maxMs: 200 },
    }).on(ORDER_PLACED, async () => {
      attempts += 1;
      throw new Error('still failing');
    });
    await consumer.start();
    await waitFor(() => attempts >= 1);
    const [lag] = await consumer.lag();
    expect(lag).toMatchObject({ topic: 'orders', partition: 0, offsetLag: 1, highWatermark: '1' });
    expect(lag!.timeLagMs).toBeGreaterThanOrEqual(10_000);
    await consumer.stop();
  });

  it('stops promptly even while a failed partition backs off, and cannot be started again', async () => {
    const h = harness();
    await h.publish([{ key: 'o-1', seq: 1 }]);
    let calls = 0;
    const consumer = h.consumer({ failureBackoff: { initialMs: 60_000, maxMs: 60_000 } }).on(ORDER_PLACED, async () => {
      calls += 1;
      throw new Error('down');
    });
    await consumer.start();
    await waitFor(() => calls === 1);
    await new Promise((r) => setTimeout(r, 20));
    const started = Date.now();
    await consumer.stop();
    expect(Date.now() - started).toBeLessThan(2000);
    await expect(consumer.start()).rejects.toThrow(/cannot start again/);
  });

  it('waits at most the longest timer for a record due far ahead', async () => {
    const h = harness();
    await h.publish([{ key: 'o-1', seq: 1 }]);
    const transport = h.broker.subscriber();
    const pauses = jest.spyOn(transport, 'pause');
    const timeouts = jest.spyOn(global, 'setTimeout');
    const errors: unknown[] = [];
    const delays: number[] = [];
    let calls = 0;
    const consumer = h
      .consumer({ transport, middleware: [deferring(() => (calls++ === 0 ? Date.now() + 365 * 24 * 3600 * 1000 : undefined))], onError: (e) => errors.push(e) })
      .on(ORDER_PLACED, async () => {});
    try {
      await consumer.start();
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      delays.push(...timeouts.mock.calls.map(([, ms]) => ms ?? 0));
      timeouts.mockRestore();
    }
    // One pause, one timer within Node's limit: no pause/resume busy loop.
    expect(pauses).toHaveBeenCalledTimes(1);
    expect(Math.max(...delays)).toBe(2 ** 31 - 1);
    expect(errors).toHaveLength(0);
    await consumer.stop();
  });

  it('treats a throwing deferUntil as a failure of its record, and logs its error redacted and bounded', async () => {
    const h = harness();
    await h.publish([{ key: 'o-1', seq: 1 }]);
    const errors: unknown[] = [];
    const consumer = h
      .consumer({
        middleware: [
          deferring(() => {
            throw new Error(`password=hunter2 ${'x'.repeat(1024 * 1024)}`);
          }),
        ],
        onError: (e) => errors.push(e),
        failureBackoff: { initialMs: 5, maxMs: 5 },
      })
      .on(ORDER_PLACED, async () => {});
    await consumer.start();
    await waitFor(() => errors.length >= 1);
    await consumer.stop();
    const line = h.logs.find((l) => l.message.startsWith('handling failed'))!;
    expect(String(line.fields!.error)).not.toContain('hunter2');
    expect(String(line.fields!.error).length).toBeLessThan(2100);
  });

  it('retries a retriable start failure, and a start that failed for good leaves it startable again', async () => {
    const h = harness();
    await h.publish([{ key: 'o-1', seq: 1 }]);
    const transport = h.broker.subscriber();
    const connect = transport.connect.bind(transport);
    const failures = [
      new TransportConnectError('coordinator loading', { retriable: true }),
      new TransportConnectError('credentials refused', { retriable: false }),
      new TransportConnectError('coordinator loading', { retriable: true }),
    ];
    let calls = 0;
    transport.connect = () => {
      calls += 1;
      const failure = failures.shift();
      return failure ? Promise.reject(failure) : connect();
    };
    const seen: string[] = [];
    const consumer = createConsumer({ groupId: 'billing', topics: ['orders'], codec: h.codec, transport, fromBeginning: true, logger: h.logger })
      .on<OrderData>(ORDER_PLACED, async (event) => {
        seen.push(event.data.orderId);
      });
    await expect(consumer.start()).rejects.toMatchObject({ message: 'credentials refused' }); // after one retry
    expect(calls).toBe(2);
    await consumer.start(); // not left half-started: it tries again, past the retriable one
    expect(calls).toBe(4);
    await waitFor(() => seen.length === 1);
    await consumer.stop();
    await transport.disconnect();
  });

  it('validates its options at the edge', () => {
    const h = harness();
    expect(() => createConsumer({ ...({} as ConsumerOptions) })).toThrow(/groupId is required/);
    expect(() => h.consumer({ keyConcurrency: 0 })).toThrow(/keyConcurrency must be an integer from 1/);
    expect(() => h.consumer({ unknownEventTypes: 'dead-letter' })).toThrow(/needs a failure routing middleware/);
    expect(() => h.consumer({ topics: [] })).toThrow(/topics must list/);
    const consumer = h.consumer().on(ORDER_PLACED, async () => {});
    expect(() => consumer.on(ORDER_PLACED, async () => {})).toThrow(/already registered/);
  });
});

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * A batching store double: rows become durable at commit only, as in PostgreSQL. `log` records
 * begin (claimed ids) and commit (ids committed) per batch.
 */
function batchingStore(options: { failCommits?: number; failBegins?: Error[] } = {}) {
  const rows = new Set<string>();
  const log: string[] = [];
  let commitFailures = options.failCommits ?? 0;
  const beginFailures = [...(options.failBegins ?? [])];
  const store: BatchingIdempotencyStore<undefined> = {
    async runOnce(_consumerGroup, eventId, work) {
      log.push('per record');
      if (rows.has(eventId)) return { duplicate: true as const };
      const result = await work(undefined);
      rows.add(eventId);
      return { duplicate: false as const, result };
    },
    deleteOlderThan: () => Promise.resolve(0),
    close: () => Promise.resolve(),
    beginBatch(_group, eventIds) {
      const failure = beginFailures.shift();
      if (failure) {
        log.push('begin failed');
        return Promise.reject(failure);
      }
      log.push(`begin ${eventIds.length}`);
      const pending = new Set<string>();
      return Promise.resolve({
        async runOnce(_consumerGroup, eventId, work) {
          if (rows.has(eventId) || pending.has(eventId)) return { duplicate: true as const };
          const result = await work(undefined);
          pending.add(eventId);
          return { duplicate: false as const, result };
        },
        commit() {
          if (commitFailures > 0) {
            commitFailures -= 1;
            log.push('commit failed');
            return Promise.reject(new Error('COMMIT failed'));
          }
          log.push(`commit ${pending.size}`);
          for (const id of pending) rows.add(id);
          return Promise.resolve();
        },
      });
    },
  };
  return { store, rows, log };
}

describe('consumer with dedupeBatching', () => {
  it('validates the option at the edge', () => {
    const h = harness();
    expect(() => h.consumer({ dedupeBatching: 'yes' as never, idempotency: batchingStore().store })).toThrow(ConsumerConfigError);
    expect(() => h.consumer({ dedupeBatching: true })).toThrow(/needs an idempotency store that batches/);
    expect(() => h.consumer({ dedupeBatching: true, idempotency: createMemoryIdempotencyStore() })).toThrow(ConsumerConfigError);
    expect(() => h.consumer({ dedupeBatching: true, idempotency: batchingStore().store, keyConcurrency: 4 })).toThrow(/keyConcurrency/);
    expect(() => h.consumer({ dedupeBatching: true, idempotency: batchingStore().store, keyConcurrency: 1 })).not.toThrow();
  });

  it('is on by default wherever it is safe: a store that batches and keyConcurrency 1; off when asked or with keyConcurrency > 1', async () => {
    const run = async (options: Partial<ConsumerOptions>) => {
      const h = harness();
      const { store, log } = batchingStore();
      await h.publish(Array.from({ length: 3 }, (_, i) => ({ key: 'o-1', seq: i })));
      const seqs: number[] = [];
      const consumer = h.consumer({ idempotency: store, ...options }).on<OrderData>(ORDER_PLACED, async (event) => void seqs.push(event.data.seq));
      await consumer.start();
      await h.broker.idle();
      await consumer.stop();
      expect(seqs).toEqual([0, 1, 2]);
      return log;
    };
    expect(await run({})).toEqual(['begin 3', 'commit 3']);
    expect(await run({ keyConcurrency: 1 })).toEqual(['begin 3', 'commit 3']);
    expect(await run({ dedupeBatching: false })).toEqual(['per record', 'per record', 'per record']);
    expect(await run({ keyConcurrency: 4 })).toEqual(['per record', 'per record', 'per record']);
  });

  it('fails the batch, not the record, when its claim fails (e.g. a zombie\'s rows held past the lock timeout): redelivered after the back-off, never routed', async () => {
    const h = harness();
    const claimTimeout = Object.assign(new Error('claim waited past its lock timeout'), { code: 'EVKIT_IDEMPOTENCY_CLAIM_TIMEOUT', retriable: true });
    const { store, log } = batchingStore({ failBegins: [claimTimeout, claimTimeout] });
    await h.publish(Array.from({ length: 4 }, (_, i) => ({ key: 'o-1', seq: i })));
    const effects: number[] = [];
    const errors: unknown[] = [];
    const seenByMiddleware: unknown[] = [];
    const consumer = h
      .consumer({
        idempotency: store,
        failureBackoff: { initialMs: 5, maxMs: 5 },
        onError: (e) => errors.push(e),
        // Where failure routing sits: outside dedupe. It never sees the claim's failure.
        middleware: [(next) => async (event, context) => {
          try {
            await next(event, context);
          } catch (error) {
            seenByMiddleware.push(error);
            throw error;
          }
        }],
      })
      .on<OrderData>(ORDER_PLACED, async (event) => void effects.push(event.data.seq));
    await consumer.start();
    await h.broker.idle();
    await consumer.stop();
    expect(errors).toEqual([claimTimeout, claimTimeout]);
    expect(seenByMiddleware).toEqual([]);
    expect(effects).toEqual([0, 1, 2, 3]);
    expect(log).toEqual(['begin failed', 'begin failed', 'begin 4', 'commit 4']);
    expect((await consumer.lag()).every((p) => p.offsetLag === 0)).toBe(true);
  });

  it('dedupes a partition batch in one transaction, in offset order, duplicates within and across batches absorbed', async () => {
    const h = harness();
    const { store, log } = batchingStore();
    const events = await h.publish(Array.from({ length: 12 }, (_, i) => ({ key: `o-${i % 4}`, seq: i })));
    // Each event once more, in the same partition (same key): within the batch and, later, in another one.
    await h.publish(events.map((e, i) => ({ key: `o-${i % 4}`, seq: i, id: e.id })));
    const seen = new Map<string, number[]>();
    let duplicates = 0;
    const consumer = h
      .consumer({
        idempotency: store,
        dedupeBatching: true,
        middleware: [(next) => async (event, context) => {
          await next(event, context);
          if (context.duplicate) duplicates += 1;
        }],
      })
      .on<OrderData>(ORDER_PLACED, async (event) => {
        seen.set(event.data.orderId, [...(seen.get(event.data.orderId) ?? []), event.data.seq]);
      });
    await consumer.start();
    await h.broker.idle();
    await h.publish(events.slice(0, 4).map((e, i) => ({ key: `o-${i % 4}`, seq: i, id: e.id })));
    await h.broker.idle();
    await consumer.stop();
    expect([...seen.values()].flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    for (const seqs of seen.values()) expect(seqs).toEqual([...seqs].sort((a, b) => a - b)); // per-key order
    expect(duplicates).toBe(16);
    expect(log.filter((l) => l.startsWith('begin')).length).toBe(log.filter((l) => l.startsWith('commit')).length);
    expect((await consumer.lag()).every((p) => p.offsetLag === 0)).toBe(true);
  });

  it('commits the records before a failed one, redelivers from it, and applies each effect once', async () => {
    const h = harness();
    const { store, log } = batchingStore();
    await h.publish(Array.from({ length: 6 }, (_, i) => ({ key: 'o-1', seq: i })));
    const effects: number[] = [];
    let failures = 0;
    const consumer = h
      .consumer({ idempotency: store, dedupeBatching: true, failureBackoff: { initialMs: 5, maxMs: 5 } })
      .on<OrderData>(ORDER_PLACED, async (event) => {
        if (event.data.seq === 3 && failures === 0) {
          failures += 1;
          throw new Error('transient');
        }
        effects.push(event.data.seq);
      });
    await consumer.start();
    await h.broker.idle();
    await consumer.stop();
    expect(effects).toEqual([0, 1, 2, 3, 4, 5]);
    expect(log).toEqual(['begin 6', 'commit 3', 'begin 3', 'commit 3']);
  });

  it('marks nothing done when the transaction fails to commit: the whole run is delivered again', async () => {
    const h = harness();
    const { store, rows, log } = batchingStore({ failCommits: 1 });
    await h.publish(Array.from({ length: 4 }, (_, i) => ({ key: 'o-1', seq: i })));
    const attempts: number[] = [];
    const errors: unknown[] = [];
    const consumer = h
      .consumer({ idempotency: store, dedupeBatching: true, failureBackoff: { initialMs: 5, maxMs: 5 }, onError: (e) => errors.push(e) })
      .on<OrderData>(ORDER_PLACED, async (event) => void attempts.push(event.data.seq));
    await consumer.start();
    await h.broker.idle();
    await consumer.stop();
    expect(errors).toEqual([expect.objectContaining({ message: 'COMMIT failed' })]);
    // Rolled back in the database, so run again (the handler's DB work went with it).
    expect(attempts).toEqual([0, 1, 2, 3, 0, 1, 2, 3]);
    expect(rows.size).toBe(4);
    expect(log).toEqual(['begin 4', 'commit failed', 'begin 4', 'commit 4']);
    expect((await consumer.lag()).every((p) => p.offsetLag === 0)).toBe(true);
  });
});
