#!/usr/bin/env node
// npm run test:faults [-- --quick] [--only 1,3,9] [--repeat N] [--transport C] [--keep-stack] [extra Jest arguments]
//
//   --quick        the CI subset, with smaller loads
//   --only LIST    these scenarios (ids as in docs/reliability.md: 1 runs 1a and 1b, 1b only 1b)
//   --repeat N     run each picked scenario N times (the broker-kill ones repeat by default)
//   --transport C  the Kafka client of every member and producer: kafkajs (default) or
//                  platformatic (on Node >= 22.22: a Node 22 from npm when this one is older)
//   --keep-stack   leave the fault stacks running afterwards (faster reruns)
//
// The scenarios run on stacks of their own (.stack/faults, .stack/faults-cluster, other ports);
// the shared stack other suites use is never stopped.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeForPlatformatic } from '../scripts/node-binary.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const env = { ...process.env };
// KafkaJS picks its retry defaults by NODE_ENV (Jest would set 'test'): run as services do.
env.NODE_ENV ??= 'production';
const jestArgs = [];
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i += 1) {
  const arg = args[i];
  if (arg === '--quick') env.EVKIT_FAULTS_QUICK = '1';
  else if (arg === '--keep-stack') env.EVKIT_FAULTS_KEEP_STACK = '1';
  else if (arg === '--only') env.EVKIT_FAULTS_ONLY = args[++i] ?? '';
  else if (arg.startsWith('--only=')) env.EVKIT_FAULTS_ONLY = arg.slice('--only='.length);
  else if (arg === '--repeat') env.EVKIT_FAULTS_REPEAT = args[++i] ?? '';
  else if (arg === '--transport') env.EVKIT_FAULTS_TRANSPORT = args[++i] ?? '';
  else if (arg.startsWith('--transport=')) env.EVKIT_FAULTS_TRANSPORT = arg.slice('--transport='.length);
  else jestArgs.push(arg);
}
const transport = env.EVKIT_FAULTS_TRANSPORT || 'kafkajs';
if (!['kafkajs', 'platformatic'].includes(transport)) {
  console.error(`--transport must be kafkajs or platformatic, got ${JSON.stringify(transport)}`);
  process.exit(2);
}
// Jest, and so the member processes it forks (child_process.fork runs its own Node), on a Node the client runs on.
const node = transport === 'platformatic' ? nodeForPlatformatic() : process.execPath;
if (node !== process.execPath) console.log(`faults: --transport platformatic on ${node}`);

// --forceExit: a KafkaJS client whose broker was killed under it can leave a reconnect timer
// behind after disconnect; the teardown has run by then, and nothing of the run is lost.
const jest = spawn(node, [path.join(root, 'node_modules', 'jest', 'bin', 'jest.js'), '-c', path.join(root, 'faults', 'jest.config.ts'), '--runInBand', '--forceExit', ...jestArgs], {
  cwd: root,
  env,
  stdio: 'inherit',
});
for (const name of ['SIGINT', 'SIGTERM']) process.on(name, () => jest.kill(name));
jest.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
