// `npm run fuzz [-- options]`: builds the packages and the fuzz suite, then runs fuzz/dist/main.js
// with the options (see fuzz/README.md). --expose-gc lets the workers measure heap growth.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const fuzz = path.dirname(fileURLToPath(import.meta.url));
const repo = path.dirname(fuzz);

const run = (command, args) => {
  const result = spawnSync(command, args, { cwd: repo, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
};

run('npx', ['tsc', '-b']);
run('npx', ['tsc', '-p', path.join(fuzz, 'tsconfig.json')]);
const result = spawnSync(process.execPath, ['--expose-gc', path.join(fuzz, 'dist', 'main.js'), ...process.argv.slice(2)], { cwd: repo, stdio: 'inherit' });
process.exit(result.status ?? 1);
