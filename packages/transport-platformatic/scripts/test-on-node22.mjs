// Runs this package's Jest projects (unit, then integration against the local stack) on Node 22:
// @platformatic/kafka 2.x needs Node >= 22.22 and the repository's own Node may be 20 (see
// scripts/node-binary.mjs for where that Node comes from). Extra arguments go to Jest.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { nodeForPlatformatic, root } from '../../../scripts/node-binary.mjs';

let node;
try {
  node = nodeForPlatformatic();
} catch (error) {
  console.error(error.message);
  process.exit(2);
}
const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
console.log(`\n== @evkit/transport-platformatic tests on Node ${version}`);
const jest = spawnSync(
  node,
  [path.join(root, 'node_modules', 'jest', 'bin', 'jest.js'), '--selectProjects', 'platformatic', 'platformatic-integration', '--forceExit', ...process.argv.slice(2)],
  { cwd: root, stdio: 'inherit' },
);
process.exit(jest.status ?? 1);
