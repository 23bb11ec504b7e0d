import { ConsumerConfigError } from './errors';
import type { EventHandler, HandlerContext, Middleware } from './handler';
import { resolvePipeline } from './pipeline';
import type { CloudEvent } from '@evkit/envelope';

/** A middleware that writes its name into the trail on the way in. */
const named = (name: string, trail: string[], extra: Partial<Middleware> = {}): Middleware =>
  Object.assign((next: Parameters<Middleware>[0]): EventHandler => async (event, context) => {
    trail.push(name);
    await next(event, context);
  }, extra);

const routingHooks = { groupId: 'g', topicsFor: () => ({ subscribe: [], ensure: [] }), deferUntil: () => undefined, deadLetter: { deadLetter: async () => {} } };
const event = { id: 'e-1', type: 't' } as CloudEvent;
const context = { groupId: 'g', record: { topic: 't', partition: 0, offset: '0' }, duplicate: false, transaction: undefined } as unknown as HandlerContext;

describe('resolvePipeline', () => {
  it('puts failure routing outside the timeout and other middleware inside it, whatever the list order', () => {
    const trail: string[] = [];
    const routing = named('routing', trail, { failureRouting: routingHooks });
    const pipeline = resolvePipeline([named('audit', trail), routing], { handlerTimeoutMs: 1000, idempotency: undefined });
    expect(pipeline.routing).toBe(routingHooks);
    expect(pipeline.layers).toHaveLength(4); // tracing, routing, timeout, audit
    expect(pipeline.layers[1]).toBe(routing);
  });

  it('runs the consumer layers, then the route’s own, then the handler', async () => {
    const trail: string[] = [];
    const pipeline = resolvePipeline([named('outer', trail), 'dedupe', named('after-dedupe', trail)], {
      handlerTimeoutMs: undefined,
      idempotency: { runOnce: async (_g, _e, work) => ({ duplicate: false, result: await (trail.push('dedupe'), work(undefined)) }) },
    });
    await pipeline.chain(async () => void trail.push('handler'), [named('route', trail)])(event, context);
    expect(trail).toEqual(['outer', 'dedupe', 'after-dedupe', 'route', 'handler']);
  });

  it('refuses a list that omits a built-in the options turn on, names one they do not, or names one twice', () => {
    const idempotency = { runOnce: async () => ({ duplicate: true as const }) };
    expect(() => resolvePipeline(['tracing'], { handlerTimeoutMs: 10, idempotency })).toThrow(/not timeout, dedupe/);
    expect(() => resolvePipeline(['timeout'], { handlerTimeoutMs: undefined, idempotency: undefined })).toThrow(/names timeout, which the options do not turn on/);
    expect(() => resolvePipeline(['tracing', 'tracing'], { handlerTimeoutMs: undefined, idempotency: undefined })).toThrow(/twice/);
    expect(() => resolvePipeline(['retry' as never], { handlerTimeoutMs: undefined, idempotency: undefined })).toThrow(ConsumerConfigError);
    const two = [named('a', [], { failureRouting: routingHooks }), named('b', [], { failureRouting: routingHooks })];
    expect(() => resolvePipeline(two, { handlerTimeoutMs: undefined, idempotency: undefined })).toThrow(/at most one failure routing/);
  });
});
