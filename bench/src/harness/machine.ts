import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import type { Pool } from 'pg';
import { installedVersion, loadConfluentKafka } from '../optional-deps';

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryGb: number;
  os: string;
  node: string;
  /** The Node the @platformatic/kafka variants ran on (2.x needs >= 22.22). */
  nodePlatformatic?: string;
  java: string;
  kafka: string;
  postgres: string;
  /** Versions of the clients and libraries measured. */
  packages: Record<string, string>;
  loadAverage: { start: number[]; end?: number[] };
}

const PACKAGES = [
  'kafkajs',
  '@kafkajs/confluent-schema-registry',
  'avsc',
  'pg',
  '@platformatic/kafka',
  '@confluentinc/kafka-javascript',
  '@confluentinc/schemaregistry',
  'tinybench',
  '@evkit/producer',
  '@evkit/consumer',
  '@evkit/codec',
  '@evkit/service',
  '@evkit/transport-kafkajs',
  '@evkit/transport-platformatic',
  '@evkit/idempotency',
  '@evkit/retry',
  '@evkit/outbox',
  '@evkit/saga',
];

export async function describeMachine(kafkaVersion: string, pool: Pool): Promise<MachineInfo> {
  const packages: Record<string, string> = {};
  for (const name of PACKAGES) packages[name] = installedVersion(name) ?? 'not installed';
  const confluent = loadConfluentKafka();
  if (confluent.ok) packages.librdkafka = confluent.module.librdkafkaVersion;
  const postgres = ((await pool.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version ?? 'unknown').split(' ')[0]!;
  return {
    cores: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGb: Math.round(os.totalmem() / 1024 ** 3),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    java: javaVersion(),
    kafka: kafkaVersion,
    postgres,
    packages,
    loadAverage: { start: loadAverage() },
  };
}

export const loadAverage = (): number[] => os.loadavg().map((l) => Math.round(l * 100) / 100);

function javaVersion(): string {
  const { stdout, stderr } = spawnSync('java', ['-version'], { encoding: 'utf8' });
  return (stderr || stdout || 'unknown').split('\n')[0]!; // java -version prints on stderr
}
