import type { VariantResult } from '../harness/interleave';
import type { MachineInfo } from '../harness/machine';
import type { ScenarioResult } from '../scenarios/types';
import { summarize, type Summary } from '../stats';

export interface TargetResult {
  target: string;
  scenario: string;
  /** The measured ratio or value; undefined when a side did not run. */
  value: number | undefined;
  goal: string;
  met: boolean | undefined;
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
  ratioTarget('consumer-pg-dedupe', 'evkit-dedupe-pg', 'kafkajs-raw', 0.5, 'evkit consumer + PostgreSQL dedupe vs raw KafkaJS');
  const outbox = byId('outbox-latency');
  for (const variant of outbox?.variants ?? []) {
    const p99 = latencyOf(variant, 'p99Ms')?.median;
    targets.push({
      target: `outbox commit → handler p99, ${variant.label}`,
      scenario: 'outbox-latency',
      value: p99,
      goal: '≤ 250 ms',
      met: p99 === undefined ? undefined : p99 <= 250,
    });
  }
  return targets;
}
