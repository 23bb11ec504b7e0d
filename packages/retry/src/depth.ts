import { metrics, type BatchObservableCallback } from '@opentelemetry/api';
import type { SubscriberTransport } from '@evkit/transport';

export interface DeadLetterDepth {
  /** Records in each dead-letter topic (its high watermarks summed). */
  read(): Promise<Map<string, number>>;
  /** Stops reporting the gauge. */
  stop(): void;
}

/**
 * Reports `evkit.dlq.depth`, the records in each dead-letter topic, as an OpenTelemetry gauge
 * read at each collection. The rate is the `evkit.dlq.records` counter the routing keeps.
 */
export function observeDeadLetterDepth(options: { subscriber: SubscriberTransport; topics: readonly string[] }): DeadLetterDepth {
  const { subscriber, topics } = options;
  const read = async () => {
    const depth = new Map<string, number>(topics.map((t) => [t, 0]));
    // The group is only a key for the offsets request; nothing is consumed or committed.
    for (const p of await subscriber.offsets('evkit-dlq-depth', topics)) depth.set(p.topic, (depth.get(p.topic) ?? 0) + Number(p.highWatermark));
    return depth;
  };
  const meter = metrics.getMeter('@evkit/retry');
  const gauge = meter.createObservableGauge('evkit.dlq.depth', { description: 'Records in a dead-letter topic' });
  const callback: BatchObservableCallback = async (observer) => {
    for (const [topic, records] of await read()) observer.observe(gauge, records, { 'messaging.destination.name': topic });
  };
  meter.addBatchObservableCallback(callback, [gauge]);
  return { read, stop: () => meter.removeBatchObservableCallback(callback, [gauge]) };
}
