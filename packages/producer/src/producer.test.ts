import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createAvroCodec, createInMemoryRegistry, IncompatibleSchemaError, InvalidPayloadError } from '@evkit/codec';
import { createEvent, runWithEventContext } from '@evkit/envelope';
import { createInMemoryBroker, partitionForKey } from '@evkit/transport';
import { ProducerClosedError } from './errors';
import { createProducer } from './producer';

const schema = {
  type: 'record',
  name: 'OrderPlaced',
  namespace: 'com.example.orders',
  fields: [{ name: 'orderId', type: 'string' }],
};
const breaking = { ...schema, fields: [...schema.fields, { name: 'customerId', type: 'string' }] };

function setup() {
  const broker = createInMemoryBroker({ partitionsPerTopic: 6 });
  broker.createTopic('orders', 6);
  const codec = createAvroCodec({ registry: createInMemoryRegistry() });
  const producer = createProducer({ codec, source: '/orders-service', transport: broker.publisher() });
  return { broker, codec, producer };
}

const placed = (orderId: string) => ({ type: 'com.example.order.placed', partitionkey: orderId, data: { orderId } });

describe('producer', () => {
  it('fills in source, id and time, keys by the aggregate id, and lands on Java’s murmur2 partition', async () => {
    const { broker, codec, producer } = setup();
    await producer.connect();
    const { event, position } = await producer.publish('orders', placed('o-42'), schema);
    expect(event).toMatchObject({ source: '/orders-service', specversion: '1.0', partitionkey: 'o-42' });
    expect(event.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(position.partition).toBe(partitionForKey('o-42', 6));
    const [stored] = broker.topic('orders').records(position.partition);
    expect(stored!.key?.toString()).toBe('o-42');
    expect((await codec.decode(stored!)).event).toEqual({ ...event, datacontenttype: 'application/avro' });
    await producer.disconnect();
  });

  it('keeps per-key order: one key, one partition, increasing offsets', async () => {
    const { producer } = setup();
    const positions = [];
    for (let i = 0; i < 20; i++) positions.push((await producer.publish('orders', placed('o-7'), schema)).position);
    expect(new Set(positions.map((p) => p.partition)).size).toBe(1);
    expect(positions.map((p) => Number(p.offset))).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('refuses an incompatible schema before anything reaches the topic', async () => {
    const { broker, producer } = setup();
    await producer.publish('orders', placed('o-1'), schema);
    await expect(producer.publish('orders', { ...placed('o-2'), data: { orderId: 'o-2', customerId: 'c' } }, breaking)).rejects.toBeInstanceOf(
      IncompatibleSchemaError,
    );
    expect(broker.topic('orders').records()).toHaveLength(1);
  });

  it('sends a batch all or nothing: one bad event and none is sent', async () => {
    const { broker, producer } = setup();
    const attempt = producer.publishBatch('orders', [
      { event: placed('o-1'), schema },
      { event: { ...placed('o-2'), data: { orderId: 2 } }, schema },
    ]);
    await expect(attempt).rejects.toBeInstanceOf(InvalidPayloadError);
    expect(broker.topic('orders').records()).toHaveLength(0);
    const sent = await producer.publishBatch('orders', [{ event: placed('o-1'), schema }, { event: placed('o-2'), schema }]);
    expect(sent.map((s) => s.event.partitionkey)).toEqual(['o-1', 'o-2']);
    expect(broker.topic('orders').records()).toHaveLength(2);
  });

  it('surfaces a transport failure as it is, typed, and sends nothing', async () => {
    const { broker, producer } = setup();
    const failure = Object.assign(new Error('broker down'), { code: 'EVKIT_TRANSPORT_SEND_FAILED', retriable: true });
    broker.failNextSend(failure);
    await expect(producer.publish('orders', placed('o-1'), schema)).rejects.toBe(failure);
    expect(broker.topic('orders').records()).toHaveLength(0);
  });

  it('inherits correlation and causation from the event being handled', async () => {
    const { producer } = setup();
    const handled = createEvent({ source: '/billing', type: 'payment.taken', correlationid: 'checkout-9', data: {} });
    const { event } = await runWithEventContext(handled, () => producer.publish('orders', placed('o-1'), schema));
    expect(event.correlationid).toBe('checkout-9');
    expect(event.causationid).toBe(handled.id);
  });

  it('waits for publishes in flight on disconnect, then refuses new ones', async () => {
    const { broker, producer } = setup();
    const inFlight = producer.publish('orders', placed('o-1'), schema);
    await producer.disconnect();
    await expect(inFlight).resolves.toBeDefined();
    expect(broker.topic('orders').records()).toHaveLength(1);
    await expect(producer.publish('orders', placed('o-2'), schema)).rejects.toBeInstanceOf(ProducerClosedError);
  });

  it('validates its options at the edge', () => {
    const codec = createAvroCodec({ registry: createInMemoryRegistry() });
    expect(() => createProducer({ codec, source: '' , transport: createInMemoryBroker().publisher() })).toThrow(/source is required/);
    expect(() => createProducer({ codec, source: '/s' })).toThrow(/either transport or kafka/);
  });
});

describe('producer tracing', () => {
  const exporter = new InMemorySpanExporter();
  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
  });
  afterAll(() => {
    trace.disable();
    context.disable();
  });

  it('puts the producer span’s trace context in the event', async () => {
    const { producer } = setup();
    const root = trace.getTracer('test').startSpan('checkout');
    const { event } = await context.with(trace.setSpan(context.active(), root), () => producer.publish('orders', placed('o-1'), schema));
    root.end();
    const span = exporter.getFinishedSpans().find((s) => s.name === 'send orders')!;
    expect(span.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(event.traceparent).toBe(`00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`);
  });
});
