import { Worker } from '../harness/worker';
import { slope } from '../stats';
import type { SoakReport, SoakRun } from '../workers/soak';
import type { ScenarioContext, ScenarioResult, SoakSeries } from './types';

const VALUE_BYTES = 1024;
/** Samples before this share of the events are warm-up. */
const WARM_UP_SHARE = 0.2;

/**
 * Events through @evkit/producer and @evkit/consumer with PostgreSQL dedupe at once, each in its
 * own process, memory sampled after a full GC every 5 % of the events.
 */
export async function soakScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  const { settings, resources, endpoints } = ctx;
  const events = settings.soakEvents;
  const sampleEvery = Math.max(100, Math.round(events / 20 / 100) * 100);
  const topic = resources.topic('soak', 'events');
  await resources.createTopics([topic]);
  await resources.truncate(ctx.tables.dedupe);
  ctx.log(`soak: ${events} events through producer and consumer (PostgreSQL dedupe), memory every ${sampleEvery}`);
  const consumer = await Worker.start({ kind: 'soak-consumer', dedupeTable: ctx.tables.dedupe }, endpoints, 'soak-consumer');
  const producer = await Worker.start({ kind: 'soak-producer', valueBytes: VALUE_BYTES }, endpoints, 'soak-producer');
  const run: SoakRun = { topic, groupId: resources.topic('soak', 'group'), events, sampleEvery };
  const [consumed, produced] = await Promise.all([consumer.run<SoakReport>(run), producer.run<SoakReport>(run)]);
  const peaks = { producer: (await producer.stop()).peakRssMb, consumer: (await consumer.stop()).peakRssMb };
  const series = (process: 'producer' | 'consumer', report: SoakReport): SoakSeries => {
    const warm = report.samples.filter((s) => s.events >= events * WARM_UP_SHARE);
    const xs = warm.map((s) => s.events / 100_000);
    return {
      process,
      samples: report.samples,
      heapSlopeMbPer100k: slope(xs, warm.map((s) => s.heapUsedMb)),
      rssSlopeMbPer100k: slope(xs, warm.map((s) => s.rssMb)),
      throughput: events / (report.elapsedMs / 1000),
      peakRssMb: peaks[process],
    };
  };
  const soak = [series('producer', produced), series('consumer', consumed)];
  for (const s of soak) {
    ctx.log(`  ${s.process}: ${Math.round(s.throughput)} events/s, heap slope ${s.heapSlopeMbPer100k.toFixed(3)} MB/100k, RSS slope ${s.rssSlopeMbPer100k.toFixed(3)} MB/100k`);
  }
  return {
    id: 'soak',
    title: `Soak: ${events.toLocaleString('en-US')} events through producer and consumer with PostgreSQL dedupe`,
    description:
      `@evkit/producer (batches of 100, ${VALUE_BYTES} B values) and @evkit/consumer with the PostgreSQL idempotency store, concurrently, each in its own ` +
      `process; heap and RSS sampled after a forced full GC (--expose-gc) every ${sampleEvery.toLocaleString('en-US')} events. Growth is the least-squares ` +
      `slope after the first ${WARM_UP_SHARE * 100} % of the events (warm-up).`,
    kind: 'soak',
    variants: [],
    notes: [],
    profiles: [],
    soak,
  };
}
