import { randomUUID } from 'node:crypto';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { logLevel } from 'kafkajs';
import { createAvroCodec } from '@evkit/codec';
import { createConsumer } from '@evkit/consumer';
import { createProducer } from '@evkit/producer';
import { createLocalStack } from '@evkit/stack';

const exporter = new InMemorySpanExporter();
beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
});
afterAll(() => {
  trace.disable();
  context.disable();
});

const schema = { type: 'record', name: 'Traced', namespace: 'dev.evkit.it', fields: [{ name: 'n', type: 'int' }] };

describe('a trace across the Kafka hop', () => {
  it('makes the span that published an event the parent of the span that handled it', async () => {
    const { endpoints } = createLocalStack();
    const kafka = { brokers: endpoints.kafkaBrokers, logLevel: logLevel.NOTHING };
    const codec = createAvroCodec({ registry: { url: endpoints.registryUrl } });
    const topic = `evkit.it.trace.${randomUUID()}`;
    const producer = createProducer({ codec, source: '/it', kafka });
    await producer.connect();

    const root = trace.getTracer('it').startSpan('place order');
    const { event } = await context.with(trace.setSpan(context.active(), root), () =>
      producer.publish(topic, { type: 'dev.evkit.it.traced', partitionkey: 'k', data: { n: 1 } }, schema),
    );
    root.end();
    await producer.disconnect();

    let innerTraceId: string | undefined;
    let handled!: () => void;
    const done = new Promise<void>((resolve) => (handled = resolve));
    const consumer = createConsumer({ groupId: `evkit-it-${randomUUID()}`, topics: [topic], codec, kafka, fromBeginning: true }).on(
      'dev.evkit.it.traced',
      async () => {
        innerTraceId = trace.getActiveSpan()?.spanContext().traceId;
        handled();
      },
    );
    await consumer.start();
    await done;
    await consumer.stop();

    const spans = exporter.getFinishedSpans();
    const send = spans.find((s) => s.name === `send ${topic}`)!;
    const processSpan = spans.find((s) => s.name === `process ${topic}`)!;
    expect(send.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(processSpan.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
    expect(processSpan.spanContext().traceId).toBe(root.spanContext().traceId);
    expect(innerTraceId).toBe(root.spanContext().traceId);
    expect(event.traceparent).toContain(send.spanContext().spanId);
  }, 60_000);
});
