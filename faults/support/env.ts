import * as path from 'node:path';
import type { LocalStackOptions } from '@evkit/stack';
import { isKafkaClientName, KAFKA_CLIENTS, type KafkaClientName } from '@evkit/transport';

// Where the fault suite runs: stacks of its own, beside the shared one (which other suites use
// and which this suite never stops), in folders under the git-ignored .stack/, sharing its jars.

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
const SHARED_STACK_DIR = path.join(REPO_ROOT, '.stack');
export const FAULTS_DIR = path.join(SHARED_STACK_DIR, 'faults');
export const CLUSTER_DIR = path.join(SHARED_STACK_DIR, 'faults-cluster');
/** Figures of each scenario of the current run, one JSON object a line. */
export const RESULTS_FILE = path.join(FAULTS_DIR, 'results.jsonl');
/** The summary table of the last run (markdown), for docs/reliability.md. */
export const REPORT_FILE = path.join(FAULTS_DIR, 'report.md');
export const MEMBER_LOG_DIR = path.join(FAULTS_DIR, 'logs', 'members');

/**
 * EVKIT_FAULTS_PORT_OFFSET moves every port of the suite's stacks, so a second checkout can run
 * the suite at the same time (its folders are its own already).
 */
const PORT_OFFSET = Number.parseInt(process.env.EVKIT_FAULTS_PORT_OFFSET ?? '0', 10) || 0;
const port = (base: number) => base + PORT_OFFSET;

/** Single Kafka node, registry, Connect and PostgreSQL, on ports of their own. */
export const SINGLE_STACK: LocalStackOptions = {
  dir: FAULTS_DIR,
  artifactsDir: SHARED_STACK_DIR,
  ports: { kafka: port(39092), kafkaController: port(39093), registry: port(38081), connect: port(38083), postgres: port(35432) },
};

/** Three Kafka nodes (broker + controller each): 39192/39194/39196, controllers 39193/39195/39197. */
export const CLUSTER_STACK: LocalStackOptions = {
  dir: CLUSTER_DIR,
  artifactsDir: SHARED_STACK_DIR,
  brokers: 3,
  services: ['kafka'],
  ports: { kafka: port(39192), kafkaController: port(39193) },
};

/** `--quick` (EVKIT_FAULTS_QUICK=1): the CI subset, smaller loads. */
export const QUICK = process.env.EVKIT_FAULTS_QUICK === '1';

/** `--repeat N` (EVKIT_FAULTS_REPEAT): every picked scenario N times, whatever its own count. */
export const REPEAT = process.env.EVKIT_FAULTS_REPEAT ? Math.max(1, Math.min(100, Number.parseInt(process.env.EVKIT_FAULTS_REPEAT, 10) || 1)) : undefined;

/** Scale of a scenario's load: quick runs fewer events. */
export function sized(full: number, quick: number): number {
  return QUICK ? quick : full;
}

/** `--transport` (EVKIT_FAULTS_TRANSPORT): the Kafka client of every member and producer. Default kafkajs. */
export const TRANSPORT: KafkaClientName = transportOf(process.env.EVKIT_FAULTS_TRANSPORT);

function transportOf(value: string | undefined): KafkaClientName {
  if (value === undefined || value === '') return 'kafkajs';
  if (isKafkaClientName(value)) return value;
  throw new Error(`EVKIT_FAULTS_TRANSPORT must be one of ${KAFKA_CLIENTS.join(', ')}, got ${JSON.stringify(value)}`);
}
