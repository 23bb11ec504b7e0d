import { createAvroCodec, createInMemoryRegistry } from '@evkit/codec';
import { createEvent } from '@evkit/envelope';
import type { IncomingRecord } from '@evkit/transport';
import { ConsumerConfigError, UnknownEventTypeError } from './errors';
import type { EventHandler, HandlerContext, Middleware } from './handler';
import { resolvePipeline } from './pipeline';
import { Router, type RouterDeps } from './router';

const TOPIC = 'orders';
const PLACED = 'com.example.order.placed';
const v1 = { type: 'record', name: 'OrderPlaced', namespace: 'com.example', fields: [{ name: 'orderId', type: 'string' }] };
const v2 = { ...v1, fields: [...v1.fields, { name: 'channel', type: 'string', default: 'web' }] };

const codec = createAvroCodec({ registry: createInMemoryRegistry() });

async function recordOf(type: string, data: Record<string, unknown>, schema: object = v1, offset = 0): Promise<IncomingRecord> {
  const event = createEvent({ source: '/test', type, data });
  return { topic: TOPIC, partition: 0, offset: String(offset), timestamp: 0, ...(await codec.encode(TOPIC, event, schema)) };
}

function routerWith(deps: Partial<RouterDeps> = {}) {
  const counts: { outcome: string; attributes: unknown }[] = [];
  const warnings: string[] = [];
  const logger = { debug() {}, info() {}, warn: (message: string) => void warnings.push(message), error() {} };
  const router = new Router({
    groupId: 'billing',
    codec,
    logger,
    unknownEventTypes: 'skip',
    stop: new AbortController().signal,
    count: (outcome, attributes) => void counts.push({ outcome, attributes }),
    ...deps,
  });
  return { router, counts, warnings };
}

/** A failure routing whose dead-letter sink records what it is given. */
function deadLetterRouting() {
  const deadLettered: { record: IncomingRecord; error: unknown; reason: string }[] = [];
  const routing: Middleware = Object.assign((next: Parameters<Middleware>[0]) => next, {
    failureRouting: {
      groupId: 'billing',
      topicsFor: () => ({ subscribe: [], ensure: [] }),
      deferUntil: () => undefined,
      deadLetter: { deadLetter: async (record: IncomingRecord, error: unknown, info: { reason: string }) => void deadLettered.push({ record, error, reason: info.reason }) },
    },
  });
  return { routing, deadLettered };
}

const noPipeline = () => resolvePipeline([], { handlerTimeoutMs: undefined, idempotency: undefined });

async function route(router: Router, record: IncomingRecord): Promise<void> {
  await router.handle(record, router.decode(record));
}

describe('Router.add', () => {
  const handler: EventHandler = async () => {};

  it.each([
    ['an empty event type', () => routerWith().router.add('', handler, {}), /eventType must be a non-empty string/],
    ['a handler that is not a function', () => routerWith().router.add(PLACED, 'nope' as never, {}), /must be a function/],
    ['route middleware that is not a list of functions', () => routerWith().router.add(PLACED, handler, { middleware: ['x'] as never }), /array of functions/],
    ['failure routing on a route', () => routerWith().router.add(PLACED, handler, { middleware: [deadLetterRouting().routing] }), /failure routing belongs in the consumer/],
  ])('refuses %s', (_, add, message) => {
    expect(add).toThrow(ConsumerConfigError);
    expect(add).toThrow(message);
  });

  it('refuses a second handler for the same type, or the same type and schema id', () => {
    const { router } = routerWith();
    router.add(PLACED, handler, {});
    expect(() => router.add(PLACED, handler, {})).toThrow(/already registered/);
    router.add(PLACED, handler, { schemaId: 7 });
    expect(() => router.add(PLACED, handler, { schemaId: 7 })).toThrow(/schema id 7 is already registered/);
    expect(router.size).toBe(1); // routes are counted by event type
  });
});

describe('Router.handle', () => {
  it('runs the handler of the event type with the decoded event and its context, and counts it', async () => {
    const { router, counts } = routerWith();
    const seen: { type: string; data: unknown; context: HandlerContext }[] = [];
    router.add(PLACED, async (event, context) => void seen.push({ type: event.type, data: event.data, context }), {});
    router.add('com.example.order.cancelled', async () => {
      throw new Error('wrong handler');
    }, {});
    router.seal(noPipeline());
    const record = await recordOf(PLACED, { orderId: 'o-1' });
    await route(router, record);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ type: PLACED, data: { orderId: 'o-1' }, context: { groupId: 'billing', record, duplicate: false } });
    expect(seen[0]!.context.schemaId).toBe(record.value!.readInt32BE(1));
    expect(counts).toEqual([{ outcome: 'handled', attributes: { 'messaging.destination.name': TOPIC, 'cloudevents.event_type': PLACED } }]);
  });

  it('prefers the route of the writer schema id, and decodes into a route\'s reader schema', async () => {
    const { router } = routerWith();
    const written = await recordOf(PLACED, { orderId: 'o-2', channel: 'app' }, v2);
    const v2Id = written.value!.readInt32BE(1);
    const calls: string[] = [];
    router.add(PLACED, async (event) => void calls.push(`any:${JSON.stringify(event.data)}`), { readerSchema: v2 });
    router.add(PLACED, async (event) => void calls.push(`v2:${JSON.stringify(event.data)}`), { schemaId: v2Id });
    router.seal(noPipeline());
    await route(router, written);
    // v1 written, read by the `any` route through its v2 reader schema: the default fills in.
    await route(router, await recordOf(PLACED, { orderId: 'o-1' }, v1));
    expect(calls).toEqual(['v2:{"orderId":"o-2","channel":"app"}', 'any:{"orderId":"o-1","channel":"web"}']);
  });

  it('runs the consumer layers outside the route\'s own middleware, then the handler', async () => {
    const { router } = routerWith();
    const trail: string[] = [];
    const layer = (name: string): Middleware => (next) => async (event, context) => {
      trail.push(name);
      await next(event, context);
    };
    router.add(PLACED, async () => void trail.push('handler'), { middleware: [layer('route')] });
    router.seal(resolvePipeline([layer('consumer')], { handlerTimeoutMs: undefined, idempotency: undefined }));
    await route(router, await recordOf(PLACED, { orderId: 'o-1' }));
    expect(trail).toEqual(['consumer', 'route', 'handler']);
  });

  it('lets a handler failure through, uncounted, for the partition to redeliver', async () => {
    const { router, counts } = routerWith();
    const failure = new Error('handler failed');
    router.add(PLACED, async () => Promise.reject(failure), {});
    router.seal(noPipeline());
    await expect(route(router, await recordOf(PLACED, { orderId: 'o-1' }))).rejects.toBe(failure);
    expect(counts).toEqual([]);
  });
});

describe('Router: an event type without a handler', () => {
  const otherType = () => recordOf('com.example.order.shipped', { orderId: 'o-9' });

  it('skip: logs, counts and moves on without a handler', async () => {
    const { router, counts, warnings } = routerWith({ unknownEventTypes: 'skip' });
    const handler = jest.fn(async () => {});
    router.add(PLACED, handler, {});
    router.seal(noPipeline());
    await route(router, await otherType());
    expect(handler).not.toHaveBeenCalled();
    expect(counts.map((c) => c.outcome)).toEqual(['skipped']);
    expect(warnings).toEqual(['no handler for this event type: skipped']);
  });

  it('fail: throws UnknownEventTypeError, so the partition stops on it', async () => {
    const { router } = routerWith({ unknownEventTypes: 'fail' });
    router.add(PLACED, async () => {}, {});
    router.seal(noPipeline());
    await expect(route(router, await otherType())).rejects.toBeInstanceOf(UnknownEventTypeError);
  });

  it('dead-letter: hands the record to the failure routing with the reason', async () => {
    const { router, counts } = routerWith({ unknownEventTypes: 'dead-letter' });
    const { routing, deadLettered } = deadLetterRouting();
    router.add(PLACED, async () => {}, {});
    router.seal(resolvePipeline([routing], { handlerTimeoutMs: undefined, idempotency: undefined }));
    const record = await otherType();
    await route(router, record);
    expect(deadLettered).toHaveLength(1);
    expect(deadLettered[0]).toMatchObject({ record, reason: 'unknown-type' });
    expect(deadLettered[0]!.error).toBeInstanceOf(UnknownEventTypeError);
    expect(counts.map((c) => c.outcome)).toEqual(['dead-lettered']);
  });
});

describe('Router: a record that does not decode', () => {
  const garbage = (): IncomingRecord => ({ topic: TOPIC, partition: 0, offset: '5', timestamp: 0, key: null, value: Buffer.from('not avro'), headers: {} });

  it('is dead-lettered with reason decode when a failure routing is listed', async () => {
    const { router } = routerWith();
    const { routing, deadLettered } = deadLetterRouting();
    const handler = jest.fn(async () => {});
    router.add(PLACED, handler, {});
    router.seal(resolvePipeline([routing], { handlerTimeoutMs: undefined, idempotency: undefined }));
    const record = garbage();
    await route(router, record);
    expect(handler).not.toHaveBeenCalled();
    expect(deadLettered.map((d) => ({ offset: d.record.offset, reason: d.reason }))).toEqual([{ offset: '5', reason: 'decode' }]);
  });

  it('stops the partition (throws the decode error) without a failure routing', async () => {
    const { router } = routerWith();
    router.add(PLACED, async () => {}, {});
    router.seal(noPipeline());
    const error = await route(router, garbage()).then(() => undefined, (e: unknown) => e);
    expect((error as { code?: string }).code).toMatch(/^EVKIT_/);
  });
});
