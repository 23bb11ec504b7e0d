import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createEvent } from '@evkit/envelope';
import { startProducerSpan, withConsumerSpan } from './spans';
import { spanContextFromTraceparent, traceHeadersOf } from './trace-context';

const exporter = new InMemorySpanExporter();
const contextManager = new AsyncLocalStorageContextManager();

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
});
afterAll(() => {
  trace.disable();
  context.disable();
});
beforeEach(() => exporter.reset());

const record = { topic: 'orders', partition: 2, offset: '41', groupId: 'billing' };

describe('producer and consumer spans', () => {
  it('joins the consumer span to the producer’s trace through the event’s traceparent', async () => {
    const root = trace.getTracer('test').startSpan('checkout');
    const producerSpan = context.with(trace.setSpan(context.active(), root), () =>
      startProducerSpan('orders', createEvent({ source: '/s', type: 't', data: {} })),
    );
    const event = createEvent({ source: '/s', type: 't', correlationid: 'flow-1', data: {}, ...traceHeadersOf(producerSpan.spanContext()) });
    producerSpan.end();
    root.end();

    await withConsumerSpan(record, event, async () => {
      await Promise.resolve();
      // A span started inside the handler is a child of the consumer span.
      trace.getTracer('test').startSpan('charge card').end();
    });

    const spans = exporter.getFinishedSpans();
    const producer = spans.find((s) => s.name === 'send orders')!;
    const consumer = spans.find((s) => s.name === 'process orders')!;
    const inner = spans.find((s) => s.name === 'charge card')!;
    expect(producer.kind).toBe(SpanKind.PRODUCER);
    expect(consumer.kind).toBe(SpanKind.CONSUMER);
    expect(consumer.spanContext().traceId).toBe(root.spanContext().traceId);
    expect(consumer.parentSpanContext?.spanId).toBe(producer.spanContext().spanId);
    expect(inner.parentSpanContext?.spanId).toBe(consumer.spanContext().spanId);
    expect(consumer.attributes).toMatchObject({
      'messaging.system': 'kafka',
      'messaging.operation.type': 'process',
      'messaging.destination.name': 'orders',
      'messaging.destination.partition.id': '2',
      'messaging.consumer.group.name': 'billing',
      'messaging.kafka.offset': 41,
      'evkit.correlation_id': 'flow-1',
    });
  });

  it('marks the consumer span failed and rethrows the handler’s error', async () => {
    const failure = new Error('card declined');
    await expect(withConsumerSpan(record, createEvent({ source: '/s', type: 't', data: {} }), () => Promise.reject(failure))).rejects.toBe(failure);
    const [span] = exporter.getFinishedSpans();
    expect(span!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'card declined' });
    expect(span!.events.map((e) => e.name)).toContain('exception');
  });

  it('starts a new trace when the event carries no traceparent', async () => {
    await withConsumerSpan(record, createEvent({ source: '/s', type: 't', data: {} }), () => Promise.resolve());
    expect(exporter.getFinishedSpans()[0]!.parentSpanContext).toBeUndefined();
  });
});

describe('traceparent', () => {
  it('round-trips a span context', () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const spanContext = spanContextFromTraceparent(traceparent, 'rojo=00f067aa0ba902b7')!;
    expect(spanContext).toMatchObject({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1, isRemote: true });
    expect(traceHeadersOf(spanContext)).toEqual({ traceparent, tracestate: 'rojo=00f067aa0ba902b7' });
  });

  it('ignores malformed or all-zero values, and writes nothing for an invalid context', () => {
    expect(spanContextFromTraceparent('01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')).toBeUndefined();
    expect(spanContextFromTraceparent('00-00000000000000000000000000000000-b7ad6b7169203331-01')).toBeUndefined();
    expect(traceHeadersOf(trace.wrapSpanContext({ traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 0 }).spanContext())).toEqual({});
  });
});
