import { Worker } from '../harness/worker';
import type { MicroRun, MicroSample } from '../workers/micro';
import { summarize } from '../stats';
import type { MicroTask, ScenarioContext, ScenarioResult } from './types';

const VALUE_BYTES = 1024;

/** Codec and envelope costs per record: every task once per round, rounds repeated, medians reported. */
export async function microScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  const { settings, resources } = ctx;
  const topic = resources.topic('micro', 'codec');
  ctx.log(`codec-micro: tinybench, ${settings.microTimeMs} ms per task, ${settings.repetitions} measured round(s)${settings.warmUp ? ' after a warm-up round' : ''}`);
  const worker = await Worker.start({ kind: 'micro', schemaId: ctx.schemaId, valueBytes: VALUE_BYTES }, ctx.endpoints, 'micro');
  const rounds: MicroSample[][] = [];
  for (let rep = settings.warmUp ? 0 : 1; rep <= settings.repetitions; rep++) {
    const samples = await worker.run<MicroSample[]>({ timeMs: settings.microTimeMs, topic } satisfies MicroRun);
    if (rep > 0) rounds.push(samples);
    ctx.log(`  ${rep === 0 ? 'warm-up' : `round ${rep}`}: ${samples.map((s) => `${s.name.split(' ')[0]} ${Math.round(s.opsPerSec)}/s`).join(', ')}`);
  }
  const { peakRssMb } = await worker.stop();
  const micro: MicroTask[] = rounds[0]!.map((first, i) => {
    const ops = summarize(rounds.map((round) => round[i]!.opsPerSec));
    return {
      group: first.group,
      name: first.name,
      opsPerSec: { median: ops.median, min: ops.min, max: ops.max },
      meanUs: summarize(rounds.map((round) => round[i]!.meanUs)).median,
    };
  });
  return {
    id: 'codec-micro',
    title: 'Codec and envelope micro-benchmarks (per record, 1 KB value)',
    description: `tinybench ${settings.microTimeMs} ms per task (after its warm-up), ${settings.repetitions} rounds; every codec warm (schema ids and types cached). Medians of each round's mean. Peak RSS of the process: ${Math.round(peakRssMb)} MB.`,
    kind: 'micro',
    variants: [],
    notes: ctx.confluentUnavailable ? [`@confluentinc/schemaregistry tasks missing: ${ctx.confluentUnavailable}`] : [],
    profiles: [],
    micro,
  };
}
