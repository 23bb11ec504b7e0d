import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { commitAll, git, initRepo, record, writeFiles } from '../src/cli-fixtures.test-support';

// evkit as a service outside this repository gets it: every public package packed with `npm pack`
// after `tsc -b`, installed from the tarballs into a scratch project (third-party dependencies from
// the npm registry), compiled against the installed types and run, and `npx evkit` used there as in
// CI. Needs no Kafka stack; it is here because it is slow (about a minute, mostly `npm install`,
// whose cache makes later runs faster), not because it needs servers.

const exec = promisify(execFile);
const ROOT = path.resolve(__dirname, '../../..');
const TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc');

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  main?: string;
  types?: string;
  type?: string;
  bin?: Record<string, string>;
  engines?: { node?: string };
  exports?: Record<string, unknown>;
  dependencies?: Record<string, string>;
}

interface Packed {
  manifest: Manifest;
  tarball: string;
  files: string[];
}

const packages = fs
  .readdirSync(path.join(ROOT, 'packages'))
  .filter((dir) => fs.existsSync(path.join(ROOT, 'packages', dir, 'package.json')))
  .map((dir) => ({ dir: `packages/${dir}`, manifest: JSON.parse(fs.readFileSync(path.join(ROOT, 'packages', dir, 'package.json'), 'utf8')) as Manifest }));
const published = packages.filter((p) => p.manifest.private !== true);

/** The environment of a user's shell: none of the npm variables of the `npm test` running this. */
function userEnv(): NodeJS.ProcessEnv {
  const kept = new Set(['npm_config_cache', 'npm_config_registry', 'npm_config_userconfig']);
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name) || kept.has(name.toLowerCase())));
}

async function sh(cwd: string, command: string, args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  try {
    return await exec(command, [...args], { cwd, env: userEnv(), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const failure = error as Error & { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${failure.stdout ?? ''}\n${failure.stderr ?? failure.message}`, { cause: error });
  }
}

/** Exit code and output of a command expected to fail sometimes. */
async function attempt(cwd: string, command: string, args: readonly string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await exec(command, [...args], { cwd, env: userEnv(), encoding: 'utf8' });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failure = error as { code?: unknown; stdout?: string; stderr?: string };
    return { code: typeof failure.code === 'number' ? failure.code : -1, output: `${failure.stdout ?? ''}${failure.stderr ?? ''}` };
  }
}

// The service: public APIs of several packages, compiled with the installed types and run.
const SERVICE = `
import { createAvroCodec, createInMemoryRegistry, DEFAULT_SUBJECT_NAME_STRATEGY } from '@evkit/codec';
import { createEvent, type CloudEvent } from '@evkit/envelope';
import { isEvkitError } from '@evkit/errors';
import { createJsonLogger } from '@evkit/telemetry';
import { createKafkaJsPublisher } from '@evkit/transport-kafkajs';
import { createInMemoryBroker } from '@evkit/transport';
import { createProducer } from '@evkit/producer';
import { createConsumer } from '@evkit/consumer';
import { createOutboxWriter } from '@evkit/outbox';
import { createPostgresIdempotencyStore } from '@evkit/idempotency';
import { createFailureRouting } from '@evkit/retry';
import { run } from '@evkit/cli';

interface OrderPlaced { orderId: string }
const schema = { type: 'record', name: 'OrderPlaced', namespace: 'com.example.orders', fields: [{ name: 'orderId', type: 'string' }] };

async function main(): Promise<void> {
  const codec = createAvroCodec({ registry: createInMemoryRegistry() });
  const event: CloudEvent<OrderPlaced> = createEvent({ source: '/orders', type: 'com.example.orders.order.placed', partitionkey: 'o-1', data: { orderId: 'o-1' } });
  const decoded = await codec.decode<OrderPlaced>(await codec.encode('orders', event, schema));
  // Not connected: only that the options type-check across packages and the client is made.
  createKafkaJsPublisher({ brokers: ['127.0.0.1:9092'], logger: createJsonLogger('warn') });
  const apis = [createInMemoryBroker, createProducer, createConsumer, createOutboxWriter, createPostgresIdempotencyStore, createFailureRouting, run];
  if (!apis.every((api) => typeof api === 'function')) throw new Error('an API is missing');
  console.log(JSON.stringify({ data: decoded.event.data, strategy: DEFAULT_SUBJECT_NAME_STRATEGY, typed: !isEvkitError(new Error('x')) }));
}

void main();
`;

const TSCONFIG = {
  compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: false, types: ['node'], outDir: 'dist' },
  files: ['service.ts'],
};

const placedV1 = record('OrderPlaced', [{ name: 'orderId', type: 'string' }]);
const placedV2 = record('OrderPlaced', [{ name: 'orderId', type: 'string' }, { name: 'currency', type: 'string', default: 'EUR' }]);
const placedBreaking = record('OrderPlaced', [{ name: 'orderId', type: 'string' }, { name: 'channel', type: 'string' }]);

describe('evkit installed from its packed tarballs, outside this repository', () => {
  let scratch: string;
  const packed = new Map<string, Packed>();

  beforeAll(async () => {
    await sh(ROOT, process.execPath, [TSC, '-b']);
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'evkit-pack-'));
    const tarballs = path.join(scratch, 'tarballs');
    fs.mkdirSync(tarballs);
    const workspaces = published.flatMap((p) => ['--workspace', p.dir]);
    const { stdout } = await sh(ROOT, 'npm', ['pack', ...workspaces, '--pack-destination', tarballs, '--json', '--loglevel', 'error']);
    for (const result of JSON.parse(stdout) as { name: string; filename: string; files: { path: string }[] }[]) {
      const source = published.find((p) => p.manifest.name === result.name)!;
      packed.set(result.name, { manifest: source.manifest, tarball: path.join(tarballs, result.filename), files: result.files.map((f) => f.path) });
    }
  }, 120_000);

  afterAll(() => {
    if (scratch !== undefined) fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('packs every public package with its build, types and declared fields, and nothing of its tests', () => {
    expect([...packed.keys()].sort()).toEqual(published.map((p) => p.manifest.name).sort());
    for (const { manifest, files } of packed.values()) {
      const where = manifest.name;
      expect({ where, type: manifest.type, node: manifest.engines?.node }).toEqual({ where, type: 'commonjs', node: expect.stringMatching(/^>=? ?\d+/) as unknown });
      for (const file of [manifest.main, manifest.types, ...Object.values(manifest.bin ?? {})]) expect({ where, file, packed: files.includes(String(file)) }).toEqual({ where, file, packed: true });
      expect({ where, exports: manifest.exports?.['.'] }).toEqual({ where, exports: { types: `./${manifest.types}`, default: `./${manifest.main}` } });
      expect({ where, tests: files.filter((f) => /\.test(-support)?\.|(^|\/)src\/|tsbuildinfo/.test(f)) }).toEqual({ where, tests: [] });
    }
  });

  it('has public packages depend on each other with caret ranges, never on a private one', () => {
    for (const { manifest } of packed.values()) {
      for (const [name, range] of Object.entries(manifest.dependencies ?? {}).filter(([n]) => n.startsWith('@evkit/'))) {
        const target = packages.find((p) => p.manifest.name === name)?.manifest;
        expect({ from: manifest.name, name, range, public: target?.private !== true }).toEqual({ from: manifest.name, name, range: `^${target?.version}`, public: true });
      }
    }
  });

  it('installs from the tarballs, compiles against the installed types and runs, from CommonJS and ESM', async () => {
    const dependencies = Object.fromEntries([...packed.values()].map((p) => [p.manifest.name, `file:${p.tarball}`]));
    const typesNode = (JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules/@types/node/package.json'), 'utf8')) as Manifest).version;
    writeFiles(scratch, {
      'package.json': { name: 'scratch-service', version: '1.0.0', private: true, dependencies: { ...dependencies, '@types/node': typesNode } },
      'tsconfig.json': TSCONFIG,
      'service.ts': SERVICE,
      'esm.mjs': "import { createAvroCodec } from '@evkit/codec';\nimport { createEvent } from '@evkit/envelope';\nconsole.log(typeof createAvroCodec, typeof createEvent);\n",
    });
    await sh(scratch, 'npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel', 'error']);
    // Every @evkit package came from its tarball, once: a range a tarball did not satisfy would
    // have pulled a copy from the registry, nested under the package that asked for it.
    const lock = JSON.parse(fs.readFileSync(path.join(scratch, 'package-lock.json'), 'utf8')) as { packages: Record<string, { resolved?: string }> };
    const evkit = Object.entries(lock.packages).filter(([where]) => where.includes('node_modules/@evkit/'));
    expect(evkit.map(([where, entry]) => [where, entry.resolved?.startsWith('file:')])).toEqual(
      [...packed.keys()].sort().map((name) => [`node_modules/${name}`, true]),
    );

    await sh(scratch, process.execPath, [TSC, '-p', '.']);
    const { stdout } = await sh(scratch, process.execPath, ['dist/service.js']);
    expect(JSON.parse(stdout)).toEqual({ data: { orderId: 'o-1' }, strategy: 'topic-record', typed: true });
    expect((await sh(scratch, process.execPath, ['esm.mjs'])).stdout).toBe('function function\n');
  }, 300_000);

  it('runs `npx evkit schemas check --against-git HEAD` on a folder of .avsc files, without a subject mapping', async () => {
    // The scratch project becomes a repository with its contracts in schemas/, as a service's is.
    const repo = scratch;
    writeFiles(repo, { '.gitignore': 'node_modules\ntarballs\ndist\n', 'schemas/orders/placed.avsc': placedV1 });
    initRepo(repo);
    commitAll(repo, 'v1');
    writeFiles(repo, { 'schemas/orders/placed.avsc': placedV2 });
    commitAll(repo, 'v2');
    const check = () => attempt(repo, 'npx', ['--no', '--', 'evkit', 'schemas', 'check', '--against-git', 'HEAD']);

    const unchanged = await check();
    expect(unchanged).toEqual({ code: 0, output: expect.stringContaining('ok   schemas/orders/placed.avsc: compatible at BACKWARD_TRANSITIVE') as unknown });
    writeFiles(repo, { 'schemas/orders/placed.avsc': placedBreaking });
    const broken = await check();
    expect(broken).toEqual({ code: 1, output: expect.stringContaining('EVKIT_CLI_FINDING: 1 of 1 schema(s) failed the compatibility check') as unknown });
    expect(git(repo, 'status', '--porcelain')).toBe('M schemas/orders/placed.avsc');
  }, 120_000);
});

describe('npx evkit in this repository', () => {
  it('runs the workspace CLI after the build, as the GitHub Actions example does', async () => {
    await sh(ROOT, process.execPath, [TSC, '-b']);
    const { stdout } = await sh(ROOT, 'npx', ['--no', '--', 'evkit', '--help']);
    expect(stdout).toContain('Usage: evkit');
    // Two causes of "could not determine executable to run": the root package is itself named
    // evkit, so without a linked `evkit` bin npx picks the root, which has none; and npm links a
    // bin only when its file exists at install time, which a bin in dist/ does not at `npm ci`.
    // So the root depends on the workspace, and the bin is a file in the source tree.
    const bin = packages.find((p) => p.manifest.name === '@evkit/cli')!.manifest.bin!.evkit!;
    expect(bin).not.toMatch(/^(\.\/)?dist\//);
    expect(fs.realpathSync(path.join(ROOT, 'node_modules/.bin/evkit'))).toBe(path.join(ROOT, 'packages/cli', bin));
  }, 120_000);
});
