import type { VariantResult } from '../harness/interleave';
import type { MachineInfo } from '../harness/machine';
import type { ScenarioResult } from '../scenarios/types';
import { OUTBOX_RATES } from '../settings';
import { summarize, type Summary } from '../stats';

export interface TargetResult {
  target: string;
  scenario: string;
  /** The measured ratio or value; undefined when a side did not run. */
  value: number | undefined;
  goal: string;
  met: boolean | undefined;
  /** How `value` reads; a ratio (×) unless said. */
  unit?: 'ratio' | 'ms' | 'events/s';
}

export interface BenchResults {
  mode: 'quick' | 'full';
  runId: string;
  startedAt: string;
  durationS: number;
  command: string;
  machine: MachineInfo;
  scenarios: ScenarioResult[];
  /** Scenarios that threw, by id. */
  failures: { scenario: string; error: string }[];
  targets: TargetResult[];
  pending: string[];
}

/** Summary of a variant's throughput (records/s) over its measured runs. */
export function throughputOf(variant: VariantResult | undefined): Summary | undefined {
  return variant && variant.runs.length > 0 ? summarize(variant.runs.map((r) => r.throughput)) : undefined;
}

export function latencyOf(variant: VariantResult | undefined, which: 'p50Ms' | 'p99Ms'): Summary | undefined {
  const values = variant?.runs.map((r) => r[which]).filter((v): v is number => v !== undefined) ?? [];
  return values.length > 0 ? summarize(values) : undefined;
}

/**
 * A relay sustains a rate when it handles at least 95% of it and its p99 stays under a second: a
 * relay that falls behind the schedule shows it in latency, which is timed from when each write was due.
 */
function sustains(variant: VariantResult | undefined, rate: number): boolean {
  const handled = throughputOf(variant)?.median;
  const p99 = latencyOf(variant, 'p99Ms')?.median;
  return handled !== undefined && p99 !== undefined && handled >= 0.95 * rate && p99 < 1_000;
}

/** Median throughput of `variant` over median throughput of the scenario's baseline. */
export function ratio(scenario: ScenarioResult, variantId: string, baselineId = scenario.baseline): number | undefined {
  const of = (id: string | undefined) => throughputOf(scenario.variants.find((v) => v.id === id))?.median;
  const a = of(variantId);
  const b = of(baselineId);
  return a !== undefined && b !== undefined && b > 0 ? a / b : undefined;
}

/** The targets, as goals measured against (not assertions). */
export function evaluateTargets(scenarios: readonly ScenarioResult[]): TargetResult[] {
  const targets: TargetResult[] = [];
  const byId = (id: string) => scenarios.find((s) => s.id === id);
  const ratioTarget = (scenarioId: string, variant: string, against: string, min: number, target: string, strictlyAbove = false) => {
    const scenario = byId(scenarioId);
    if (!scenario) return;
    const value = ratio(scenario, variant, against);
    const goal = strictlyAbove ? `> ${min}×` : `≥ ${min}×`;
    targets.push({ target, scenario: scenarioId, value, goal, met: value === undefined ? undefined : strictlyAbove ? value > min : value >= min });
  };
  for (const size of [1024, 200]) {
    const id = `producer-throughput-${size}`;
    ratioTarget(id, 'evkit-producer', 'kafkajs-raw', 0.95, `evkit producer vs raw KafkaJS (${size} B)`);
    ratioTarget(id, 'evkit-producer', 'kafkajs-encode', 2, `evkit producer vs KafkaJS + encode() (${size} B)`);
    ratioTarget(id, 'evkit-producer', 'confluent', 1, `evkit producer vs Confluent client + serializer, defaults (${size} B)`, true);
    ratioTarget(id, 'evkit-producer', 'confluent-linger0', 1, `evkit producer vs Confluent client + serializer, linger.ms 0 (${size} B)`, true);
    ratioTarget(id, 'evkit-producer-platformatic', 'kafkajs-raw', 1, `evkit producer on @platformatic/kafka vs raw KafkaJS (${size} B)`, true);
  }
  for (const concurrency of [100, 1000]) {
    const id = `producer-concurrency-${concurrency}`;
    ratioTarget(id, 'evkit-producer', 'kafkajs-raw', 10, `evkit producer vs raw KafkaJS send() per call, ${concurrency} concurrent senders`);
    // Concurrency buys batch speed: against evkit's own publishBatch of 100 (same values).
    const concurrent = throughputOf(byId(id)?.variants.find((v) => v.id === 'evkit-producer'))?.median;
    const batched = throughputOf(byId('producer-throughput-1024')?.variants.find((v) => v.id === 'evkit-producer'))?.median;
    const value = concurrent !== undefined && batched ? concurrent / batched : undefined;
    targets.push({
      target: `evkit producer, ${concurrency} concurrent senders vs its own publishBatch of 100 (1024 B)`,
      scenario: id,
      value,
      goal: '≥ 0.8×',
      met: value === undefined ? undefined : value >= 0.8,
    });
  }
  ratioTarget('consumer-throughput', 'evkit-consumer', 'kafkajs-raw', 0.95, 'evkit consumer vs raw KafkaJS');
  ratioTarget('consumer-throughput', 'evkit-consumer', 'kafkajs-decode', 2, 'evkit consumer vs KafkaJS + decode()');
  ratioTarget('consumer-throughput', 'evkit-consumer', 'confluent', 1, 'evkit consumer vs Confluent client + deserializer', true);
  ratioTarget('consumer-throughput', 'evkit-consumer-platformatic', 'kafkajs-raw', 1, 'evkit consumer on @platformatic/kafka vs raw KafkaJS', true);
  ratioTarget('consumer-pg-dedupe', 'evkit-dedupe-pg', 'kafkajs-raw', 0.5, 'evkit consumer + PostgreSQL dedupe vs raw KafkaJS');
  // The outbox latency curve: the goal is at 500 events/s; the curve's sustained maximum per relay.
  const atGoalRate = byId('outbox-latency-500');
  for (const variant of atGoalRate?.variants ?? []) {
    const p99 = latencyOf(variant, 'p99Ms')?.median;
    targets.push({
      target: `outbox commit → handler p99 at 500 events/s, ${variant.label}`,
      scenario: 'outbox-latency-500',
      value: p99,
      goal: '≤ 100 ms',
      met: p99 === undefined ? undefined : p99 <= 100,
      unit: 'ms',
    });
  }
  const curve = OUTBOX_RATES.map((rate) => ({ rate, scenario: byId(`outbox-latency-${rate}`) })).filter((point) => point.scenario !== undefined);
  const relays = [...new Set(curve.flatMap(({ scenario }) => scenario!.variants.map((v) => v.id)))];
  for (const relay of relays) {
    // Against the rate actually offered: the quick run caps every point at its own small rate.
    const sustained = curve
      .filter(({ rate, scenario }) => sustains(scenario!.variants.find((v) => v.id === relay), scenario!.offeredRate ?? rate))
      .map(({ rate, scenario }) => scenario!.offeredRate ?? rate);
    const label = curve.map(({ scenario }) => scenario!.variants.find((v) => v.id === relay)?.label).find(Boolean) ?? relay;
    targets.push({
      target: `outbox: highest offered rate sustained (of ${curve.map(({ rate }) => rate).join(', ')} events/s), ${label}`,
      scenario: 'outbox-latency',
      value: sustained.length > 0 ? Math.max(...sustained) : undefined,
      goal: '≥ 500 events/s',
      met: sustained.length > 0 ? Math.max(...sustained) >= 500 : curve.length > 0 ? false : undefined,
      unit: 'events/s',
    });
  }
  return targets;
}
