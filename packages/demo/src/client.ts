import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { isKafkaClientName, KAFKA_CLIENTS, type KafkaClientName } from '@evkit/transport';

/** scripts/node-binary.mjs, as this file uses it. */
interface NodeBinaries {
  runsPlatformatic(): boolean;
  nodeForPlatformatic(): string;
}

/**
 * The Kafka client the demo runs on: `EVKIT_TRANSPORT` (kafkajs or platformatic), default
 * kafkajs. @platformatic/kafka needs Node >= 22.22: on an older Node the demo runs again on a
 * Node 22 (installed once into .stack/node/22, as the transport's tests do), and the result is
 * that run's exit code.
 */
export async function demoClient(repoRoot: string): Promise<KafkaClientName | { exitCode: number }> {
  const client = process.env.EVKIT_TRANSPORT || 'kafkajs';
  if (!isKafkaClientName(client)) throw new Error(`EVKIT_TRANSPORT must be one of ${KAFKA_CLIENTS.join(', ')}, got ${client}`);
  if (client !== 'platformatic') return client;
  const script = path.join(repoRoot, 'scripts', 'node-binary.mjs');
  const binaries = (await import(pathToFileURL(script).href)) as NodeBinaries;
  if (binaries.runsPlatformatic()) return client;
  const node = binaries.nodeForPlatformatic();
  process.stdout.write(`EVKIT_TRANSPORT=platformatic needs Node >= 22.22, this is ${process.versions.node}: running on ${node}\n`);
  const rerun = spawnSync(node, process.argv.slice(1), { stdio: 'inherit' });
  return { exitCode: rerun.status ?? 1 };
}
