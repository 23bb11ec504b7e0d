import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { javaTools } from './clients/java';
import { BenchResources } from './harness/admin';
import { describeMachine, loadAverage } from './harness/machine';
import { findNode22 } from './harness/node22';
import { ensureStack, stackHealthy } from './harness/stack';
import { loadConfluentKafka, loadConfluentSchemaRegistry } from './optional-deps';
import { renderMarkdown } from './report/markdown';
import { evaluateTargets, type BenchResults } from './report/results';
import { consumerPgDedupe, consumerThroughput } from './scenarios/consumer';
import { microScenario } from './scenarios/micro';
import { outboxScenario } from './scenarios/outbox';
import { producerScenario } from './scenarios/producer';
import { removeOutboxConnector } from './scenarios/debezium';
import { dropSagaSchemas, sagaScenario } from './scenarios/saga';
import { soakScenario } from './scenarios/soak';
import type { ScenarioContext, ScenarioResult } from './scenarios/types';
import { OUTBOX_RATES, settingsFor, type Mode } from './settings';

const BENCH = path.resolve(__dirname, '..');
const REPO = path.resolve(BENCH, '..');

const SCENARIOS: Record<string, (ctx: ScenarioContext) => Promise<ScenarioResult>> = {
  'producer-throughput-1024': (ctx) => producerScenario(ctx, { valueBytes: 1024, latency: false }),
  'producer-throughput-200': (ctx) => producerScenario(ctx, { valueBytes: 200, latency: false }),
  'producer-latency-1024': (ctx) => producerScenario(ctx, { valueBytes: 1024, latency: true }),
  ...Object.fromEntries(
    [1, 10, 100, 1000].map((concurrency) => [`producer-concurrency-${concurrency}`, (ctx: ScenarioContext) => producerScenario(ctx, { valueBytes: 1024, latency: true, concurrency })]),
  ),
  'consumer-throughput': consumerThroughput,
  'consumer-pg-dedupe': consumerPgDedupe,
  ...Object.fromEntries(OUTBOX_RATES.map((rate) => [`outbox-latency-${rate}`, (ctx: ScenarioContext) => outboxScenario(ctx, rate)])),
  'codec-micro': microScenario,
  saga: sagaScenario,
  soak: soakScenario,
};

interface Cli {
  mode: Mode;
  only: string[] | undefined;
  repetitions: number | undefined;
  profile: boolean | undefined;
  variants: string[] | undefined;
  /** Remove what an interrupted run left behind, then exit. */
  cleanup: string | undefined;
  /** Only write docs/benchmarks.md again from bench/results.json (after editing findings.md). */
  render: boolean;
}

function parseArgs(argv: readonly string[]): Cli {
  const cli: Cli = { mode: 'full', only: undefined, repetitions: undefined, profile: undefined, variants: undefined, cleanup: undefined, render: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === '--quick') cli.mode = 'quick';
    else if (arg === '--full') cli.mode = 'full';
    else if (arg === '--only') cli.only = value().split(',');
    else if (arg === '--reps') cli.repetitions = Number(value());
    else if (arg === '--cleanup') cli.cleanup = value();
    else if (arg === '--render') cli.render = true;
    else if (arg === '--variants') cli.variants = value().split(',');
    else if (arg === '--profile') cli.profile = true;
    else if (arg === '--no-profile') cli.profile = false;
    else throw new Error(`unknown option ${arg}; see bench/README.md`);
  }
  const unknown = cli.only?.filter((id) => !(id in SCENARIOS)) ?? [];
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}; known: ${Object.keys(SCENARIOS).join(', ')}`);
  if (cli.repetitions !== undefined && !(Number.isInteger(cli.repetitions) && cli.repetitions >= 1)) throw new Error('--reps must be a positive integer');
  return cli;
}

async function main(): Promise<number> {
  const cli = parseArgs(process.argv.slice(2));
  if (cli.render) {
    const results = JSON.parse(fs.readFileSync(path.join(BENCH, 'results.json'), 'utf8')) as BenchResults;
    fs.writeFileSync(path.join(REPO, 'docs', 'benchmarks.md'), renderMarkdown(results, readFindings()));
    console.log('wrote docs/benchmarks.md from bench/results.json and bench/findings.md');
    return 0;
  }
  const settings = settingsFor(cli.mode);
  if (cli.repetitions !== undefined) settings.repetitions = cli.repetitions;
  if (cli.profile !== undefined) settings.profile = cli.profile;
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const log = (line: string) => console.log(`[bench ${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}`);
  const runId = Date.now().toString(36);

  const stack = await ensureStack(log);
  if (cli.cleanup) return cleanupRun(cli.cleanup, stack, log);
  const resources = new BenchResources(stack.endpoints, runId);
  await resources.connect();
  const java = javaTools(stack.dir, stack.endpoints.brokers);
  const machine = await describeMachine(await java.version(), resources.pool);
  log(`${cli.mode} run ${runId}: ${machine.cores} cores, load ${machine.loadAverage.start.join(' ')}, Node ${machine.node}, Kafka ${machine.kafka}`);
  const confluent = [loadConfluentKafka(), loadConfluentSchemaRegistry()].find((loaded) => !loaded.ok);
  const ctx: ScenarioContext = {
    settings,
    endpoints: stack.endpoints,
    resources,
    java,
    schemaId: await resources.registerFixtureSchema(),
    confluentUnavailable: confluent && !confluent.ok ? confluent.reason : undefined,
    node22: findNode22(),
    runId,
    connectUrl: stack.connectUrl,
    tables: tablesOf(runId),
    profileDir: path.join(BENCH, 'profiles'),
    variantFilter: cli.variants,
    log,
  };
  if (ctx.confluentUnavailable) log(`Confluent client not run: ${ctx.confluentUnavailable}`);
  if ('unavailable' in ctx.node22) log(`@platformatic/kafka variants not run: ${ctx.node22.unavailable}`);
  else machine.nodePlatformatic = ctx.node22.version;

  const scenarios: ScenarioResult[] = [];
  const failures: BenchResults['failures'] = [];
  try {
    for (const [id, run] of Object.entries(SCENARIOS)) {
      if (cli.only && !cli.only.includes(id)) continue;
      try {
        scenarios.push(await runScenario(id, run, ctx));
      } catch (error) {
        failures.push({ scenario: id, error: (error as Error).stack ?? String(error) });
        log(`${id} FAILED: ${(error as Error).stack ?? String(error)}`);
      }
      await resources.deleteTopics().catch((error: unknown) => log(`deleting the topics of ${id}: ${String(error)}`));
    }
  } finally {
    log('cleaning up topics, subjects and tables of this run');
    await resources.cleanup().catch((error: unknown) => log(`cleanup: ${String(error)}`));
    await resources.dropTables(Object.values(ctx.tables)).catch((error: unknown) => log(`cleanup: ${String(error)}`));
    await resources.close();
  }
  machine.loadAverage.end = loadAverage();

  const results: BenchResults = {
    mode: cli.mode,
    runId,
    startedAt,
    durationS: Math.round((performance.now() - started) / 1000),
    command: ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' '),
    machine,
    scenarios,
    failures,
    targets: evaluateTargets(scenarios),
    pending: pendingWork(ctx),
  };
  const complete = cli.mode === 'full' && !cli.only && !cli.variants;
  const resultsFile = path.join(BENCH, complete ? 'results.json' : 'results.quick.json');
  fs.writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  const markdown = renderMarkdown(results, readFindings());
  if (complete) fs.writeFileSync(path.join(REPO, 'docs', 'benchmarks.md'), markdown);
  else fs.writeFileSync(path.join(BENCH, 'results.quick.md'), markdown);
  log(`wrote ${path.relative(REPO, resultsFile)}${complete ? ' and docs/benchmarks.md' : ' and bench/results.quick.md (docs/benchmarks.md is written by full runs only)'}`);

  const broken = scenarios.flatMap((s) => s.variants.filter((v) => v.error).map((v) => `${s.id}/${v.id}: ${v.error!.split('\n')[0]}`));
  for (const target of results.targets) log(`target ${target.met === undefined ? '–' : target.met ? 'met   ' : 'MISSED'} ${target.target}: ${target.value?.toFixed(2) ?? '–'} (${target.goal})`);
  if (failures.length > 0 || broken.length > 0) {
    log(`FAILED: ${[...failures.map((f) => f.scenario), ...broken].join('; ')}`);
    return 1;
  }
  log(`done: ${scenarios.length} scenarios, load average now ${machine.loadAverage.end.join(' ')}`);
  return 0;
}

/**
 * Runs a scenario; when the shared stack went down meanwhile (someone stopped it), starts it again
 * and runs the scenario once more from the start. The registry keeps schemas in memory, so the
 * fixture schema is registered again.
 */
async function runScenario(id: string, run: (ctx: ScenarioContext) => Promise<ScenarioResult>, ctx: ScenarioContext): Promise<ScenarioResult> {
  try {
    return await run(ctx);
  } catch (error) {
    if (await stackHealthy()) throw error;
    ctx.log(`${id}: the local stack went down during the scenario (${(error as Error).message.split('\n')[0]}); starting it and running ${id} again`);
    await ensureStack(ctx.log);
    ctx.schemaId = await ctx.resources.registerFixtureSchema();
    return run(ctx);
  }
}

const tablesOf = (runId: string) => ({ dedupe: `bench_${runId}_processed`, outbox: `bench_${runId}_outbox`, outboxCdc: `bench_${runId}_outbox_cdc` });

/** `--cleanup <runId>`: topics, subjects, tables, the Debezium connector, slot and publication of an interrupted run. */
async function cleanupRun(runId: string, stack: Awaited<ReturnType<typeof ensureStack>>, log: (line: string) => void): Promise<number> {
  if (!/^[a-z0-9]+$/.test(runId)) throw new Error(`--cleanup takes a run id (as in bench.<runId>.*), got ${runId}`);
  const resources = new BenchResources(stack.endpoints, runId);
  await resources.connect();
  try {
    await removeOutboxConnector({ connectUrl: stack.connectUrl, runId, pool: resources.pool, log });
    await resources.cleanup();
    await resources.dropTables(Object.values(tablesOf(runId)));
    await dropSagaSchemas(resources.pool, runId);
  } finally {
    await resources.close();
  }
  log(`removed what run ${runId} left behind`);
  return 0;
}

function pendingWork(ctx: ScenarioContext): string[] {
  const pending: string[] = [];
  if (ctx.confluentUnavailable) pending.push(`Confluent client + serializer: ${ctx.confluentUnavailable}`);
  if ('unavailable' in ctx.node22) pending.push(`@platformatic/kafka variants: ${ctx.node22.unavailable}`);
  return pending;
}

function readFindings(): string {
  const file = path.join(BENCH, 'findings.md');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
