import { metrics } from '@opentelemetry/api';
import { MeterProvider, MetricReader, type GaugeMetricData } from '@opentelemetry/sdk-metrics';
import type { Pool } from 'pg';
import { createOutboxCleaner, createOutboxLagMonitor } from './housekeeping';

/** Collects on demand. */
class OnDemandReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** A pool answering each query with the rows the test sets for it, and logging the statements. */
function fakePool(answer: (text: string, values: unknown[]) => { rows: unknown[]; rowCount?: number }) {
  const statements: { text: string; values: unknown[] }[] = [];
  const query = async (text: string, values: unknown[] = []) => {
    statements.push({ text, values });
    return answer(text, values);
  };
  return { pool: { query, connect: async () => ({ query, release() {} }) } as unknown as Pool, statements };
}

describe('relay lag', () => {
  const reader = new OnDemandReader();
  beforeAll(() => metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] })));
  afterAll(() => metrics.disable());

  const gauge = async (name: string) => {
    const { resourceMetrics } = await reader.collect();
    return resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name) as GaugeMetricData | undefined;
  };

  it('polling: the age of the oldest unsent row, as API and gauge', async () => {
    const { pool, statements } = fakePool(() => ({ rows: [{ age_ms: 1234.5 }] }));
    const monitor = createOutboxLagMonitor({ pool, table: 'app.outbox', relay: 'polling' });
    expect(await monitor.read()).toEqual({ oldestUnrelayedAgeMs: 1234.5 });
    expect(statements[0]!.text).toContain('FROM "app"."outbox" WHERE sent_at IS NULL ORDER BY seq LIMIT 1');
    expect((await gauge('evkit.outbox.lag.time'))!.dataPoints[0]).toMatchObject({ value: 1234.5, attributes: { 'evkit.outbox.table': 'app.outbox' } });
    monitor.close();
    const queried = statements.length;
    await reader.collect();
    expect(statements).toHaveLength(queried); // closed: no more queries at collection
  });

  it('debezium: the replication slot\'s lag in bytes and whether it is streaming', async () => {
    const { pool, statements } = fakePool(() => ({ rows: [{ active: false, lag_bytes: '16384' }] }));
    const monitor = createOutboxLagMonitor({ pool, relay: 'debezium', slotName: 'evkit_outbox' });
    expect(await monitor.read()).toEqual({ slot: { name: 'evkit_outbox', active: false, lagBytes: 16384 } });
    expect(statements[0]!.values).toEqual(['evkit_outbox']);
    expect((await gauge('evkit.outbox.slot.lag'))!.dataPoints[0]).toMatchObject({ value: 16384, attributes: { 'evkit.outbox.slot': 'evkit_outbox' } });
    expect((await gauge('evkit.outbox.slot.active'))!.dataPoints[0]!.value).toBe(0);
    monitor.close();
  });

  it('debezium: no slot, no slot figures; a failing query is a typed, retriable error', async () => {
    expect(await createOutboxLagMonitor({ pool: fakePool(() => ({ rows: [] })).pool, relay: 'debezium', slotName: 's' }).read()).toEqual({});
    const broken = fakePool(() => {
      throw new Error('Connection terminated unexpectedly');
    });
    await expect(createOutboxLagMonitor({ pool: broken.pool, relay: 'polling' }).read()).rejects.toMatchObject({
      code: 'EVKIT_OUTBOX_DATABASE_FAILED',
      retriable: true,
    });
  });
});

describe('createOutboxCleaner', () => {
  it('deletes in chunks until one comes back short; polling keeps unsent rows', async () => {
    const counts = [3, 3, 1];
    const { pool, statements } = fakePool(() => ({ rows: [], rowCount: counts.shift() }));
    expect(await createOutboxCleaner({ pool, relay: 'polling', deleteBatchSize: 3 }).deleteOlderThan(1000)).toBe(7);
    expect(statements).toHaveLength(3);
    expect(statements[0]!.text).toContain('AND sent_at IS NOT NULL LIMIT $2 FOR UPDATE SKIP LOCKED');
    expect(statements[0]!.values).toEqual([1000, 3]);
    const debezium = fakePool(() => ({ rows: [], rowCount: 0 }));
    await createOutboxCleaner({ pool: debezium.pool, relay: 'debezium' }).deleteOlderThan(0);
    expect(debezium.statements[0]!.text).not.toContain('sent_at');
  });
});
