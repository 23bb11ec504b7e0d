import { metrics } from '@opentelemetry/api';
import { partitionKeyOf, type SubscriberTransport } from '@evkit/transport';

export interface PartitionLag {
  topic: string;
  partition: number;
  committedOffset: string;
  highWatermark: string;
  /** Records not yet handled and committed. */
  offsetLag: number;
  /** Age of the oldest record fetched but not handled, ms; 0 when caught up; undefined when unknown. */
  timeLagMs: number | undefined;
}

/**
 * Lag per partition: offsets from the transport, time lag from the oldest record fetched but
 * not handled (kept while a failed partition backs off, so it keeps growing). Also the
 * OpenTelemetry gauges `evkit.consumer.lag.offset` and `evkit.consumer.lag.time`.
 */
export class LagReporter {
  private readonly oldestUnhandled = new Map<string, number>();

  constructor(
    private readonly transport: SubscriberTransport,
    private readonly groupId: string,
    private readonly topics: readonly string[],
    isRunning: () => boolean,
  ) {
    const meter = metrics.getMeter('@evkit/consumer');
    const offsetLag = meter.createObservableGauge('evkit.consumer.lag.offset', { description: 'Records not yet handled and committed, per partition' });
    const timeLag = meter.createObservableGauge('evkit.consumer.lag.time', { description: 'Age of the oldest unhandled record, per partition', unit: 'ms' });
    meter.addBatchObservableCallback(async (observer) => {
      if (!isRunning()) return;
      for (const p of await this.lag()) {
        const attributes = { 'messaging.consumer.group.name': groupId, 'messaging.destination.name': p.topic, 'messaging.destination.partition.id': String(p.partition) };
        observer.observe(offsetLag, p.offsetLag, attributes);
        if (p.timeLagMs !== undefined) observer.observe(timeLag, p.timeLagMs, attributes);
      }
    }, [offsetLag, timeLag]);
  }

  keyOf(topic: string, partition: number): string {
    return partitionKeyOf(topic, partition);
  }

  /** The timestamp of the partition's oldest record not handled; undefined: none (caught up, or no longer ours). */
  noteOldest(key: string, timestamp: number | undefined): void {
    if (timestamp === undefined) this.oldestUnhandled.delete(key);
    else this.oldestUnhandled.set(key, timestamp);
  }

  async lag(): Promise<PartitionLag[]> {
    const now = Date.now();
    const offsets = await this.transport.offsets(this.groupId, this.topics);
    return offsets.map((p) => {
      const committed = BigInt(p.committed);
      const highWatermark = BigInt(p.highWatermark);
      const offsetLag = Number(committed < 0n ? highWatermark : highWatermark - committed);
      const oldest = this.oldestUnhandled.get(partitionKeyOf(p.topic, p.partition));
      const timeLagMs = offsetLag === 0 ? 0 : oldest !== undefined ? Math.max(0, now - oldest) : undefined;
      return { topic: p.topic, partition: p.partition, committedOffset: p.committed, highWatermark: p.highWatermark, offsetLag: Math.max(0, offsetLag), timeLagMs };
    });
  }
}
