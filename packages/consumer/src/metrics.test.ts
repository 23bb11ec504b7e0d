import { metrics } from '@opentelemetry/api';
import { MeterProvider, MetricReader, type GaugeMetricData, type SumMetricData } from '@opentelemetry/sdk-metrics';
import { createAvroCodec, createInMemoryRegistry } from '@evkit/codec';
import { createEvent } from '@evkit/envelope';
import { createInMemoryBroker } from '@evkit/transport';
import { createConsumer } from './consumer';

/** Collects on demand: the test reads metrics at the moments it chooses. */
class OnDemandReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const schema = { type: 'record', name: 'Ping', fields: [{ name: 'n', type: 'int' }] };

describe('consumer metrics (OpenTelemetry)', () => {
  const reader = new OnDemandReader();
  beforeAll(() => {
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  });
  afterAll(() => metrics.disable());

  it('exports offset and time lag per partition, and counts events by outcome', async () => {
    const broker = createInMemoryBroker({ partitionsPerTopic: 1, now: () => Date.now() - 5000 });
    const codec = createAvroCodec({ registry: createInMemoryRegistry() });
    const records = await Promise.all(
      [1, 2, 3].map(async (n) => ({ topic: 'pings', ...(await codec.encode('pings', createEvent({ source: '/t', type: 'ping', partitionkey: 'k', data: { n } }), schema)) })),
    );
    await broker.publisher().send(records);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let handled = 0;
    const consumer = createConsumer({ groupId: 'g', topics: ['pings'], codec, transport: broker.subscriber(), fromBeginning: true }).on('ping', async () => {
      await gate;
      handled += 1;
    });
    await consumer.start();
    await new Promise((r) => setTimeout(r, 20));

    const metric = async (name: string) => {
      const { resourceMetrics } = await reader.collect();
      return resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
    };
    const stuck = (await metric('evkit.consumer.lag.offset')) as GaugeMetricData;
    expect(stuck.dataPoints[0]).toMatchObject({
      value: 3,
      attributes: { 'messaging.consumer.group.name': 'g', 'messaging.destination.name': 'pings', 'messaging.destination.partition.id': '0' },
    });
    const age = (await metric('evkit.consumer.lag.time')) as GaugeMetricData;
    expect(age.dataPoints[0]!.value).toBeGreaterThanOrEqual(5000);

    release();
    while (handled < 3) await new Promise((r) => setTimeout(r, 5));
    await broker.idle();
    expect(((await metric('evkit.consumer.lag.offset')) as GaugeMetricData).dataPoints[0]!.value).toBe(0);
    const events = (await metric('evkit.consumer.events')) as SumMetricData;
    expect(events.dataPoints.find((p) => p.attributes.outcome === 'handled')!.value).toBe(3);
    await consumer.stop();
  });
});
