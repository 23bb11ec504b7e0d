import { metrics } from '@opentelemetry/api';
import { MeterProvider, MetricReader, type GaugeMetricData } from '@opentelemetry/sdk-metrics';
import { createInMemoryBroker } from '@evkit/transport';
import { observeDeadLetterDepth } from './depth';

class OnDemandReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

describe('dead-letter depth', () => {
  const reader = new OnDemandReader();
  beforeAll(() => metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] })));
  afterAll(() => metrics.disable());

  it('reports the records in each dead-letter topic as a gauge', async () => {
    const broker = createInMemoryBroker({ partitionsPerTopic: 2 });
    broker.createTopic('orders.billing.dlq');
    broker.createTopic('payments.billing.dlq');
    await broker.publisher().send(['a', 'b', 'c'].map((key) => ({ topic: 'orders.billing.dlq', key, value: Buffer.from(key), headers: {} })));
    const depth = observeDeadLetterDepth({ subscriber: broker.subscriber(), topics: ['orders.billing.dlq', 'payments.billing.dlq'] });
    expect(await depth.read()).toEqual(new Map([['orders.billing.dlq', 3], ['payments.billing.dlq', 0]]));
    const { resourceMetrics } = await reader.collect();
    const gauge = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === 'evkit.dlq.depth') as GaugeMetricData;
    expect(gauge.dataPoints.map((p) => [p.attributes['messaging.destination.name'], p.value])).toEqual([
      ['orders.billing.dlq', 3],
      ['payments.billing.dlq', 0],
    ]);
    depth.stop();
  });
});
