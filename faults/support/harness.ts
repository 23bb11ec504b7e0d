import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { createLocalStack, type LocalStack } from '@evkit/stack';
import type { KafkaClientName } from '@evkit/transport';
import { CLUSTER_STACK, QUICK, REPEAT, SINGLE_STACK, TRANSPORT } from './env';
import { memberLogFile } from './member';
import { stepEvkit, type StepEvkitSetup, type StepProducer } from './step';
import { fileLogger, TABLES_SQL, type MemberSpec } from './workload';

// What every scenario file shares: the fault stacks, the database the checker reads, names that
// are unique per run, producers and member specs with the suite's defaults.

const log = (line: string) => process.stdout.write(`  [stack] ${line}\n`);

export const single: LocalStack = createLocalStack({ ...SINGLE_STACK, log });
export const cluster: LocalStack = createLocalStack({ ...CLUSTER_STACK, log });

let tablesReady = false;

/** Starts (or checks) the single-node fault stack and the checker's tables; idempotent. */
export async function upSingle(): Promise<void> {
  await single.up();
  if (tablesReady) return;
  const pool = new Pool({ connectionString: single.endpoints.postgresUrl, max: 1 });
  try {
    await pool.query(TABLES_SQL);
  } finally {
    await pool.end();
  }
  tablesReady = true;
}

/** The checker's pool (the single stack's PostgreSQL). */
export function checkerPool(): Pool {
  const pool = new Pool({ connectionString: single.endpoints.postgresUrl, max: 4 });
  pool.on('error', () => {});
  return pool;
}

export interface Names {
  run: string;
  topic: string;
  groupId: string;
}

/** Unique names for one scenario run. */
export function namesFor(scenario: string): Names {
  const id = randomUUID().slice(0, 8);
  const run = `s${scenario}-${id}`;
  return { run, topic: `faults.${scenario}.${id}`, groupId: `faults-${scenario}-${id}` };
}

export type ProducerSetup = Pick<StepEvkitSetup, 'brokers' | 'requestTimeout' | 'retry'> & { registryUrl?: string; logFile: string };

/** A producer of step events: an evkit of its own (its own schema cache: a cold one, for scenario 8). */
export function stepProducer(setup: ProducerSetup): StepProducer {
  const { logger } = fileLogger(setup.logFile);
  return stepEvkit({
    brokers: setup.brokers,
    clientId: 'evkit-faults-producer',
    registryUrl: setup.registryUrl ?? single.endpoints.registryUrl,
    logger,
    ...(setup.requestTimeout === undefined ? {} : { requestTimeout: setup.requestTimeout }),
    ...(setup.retry === undefined ? {} : { retry: setup.retry }),
  });
}

/** A member spec with the suite's defaults, for the single stack unless told otherwise. */
export function memberSpec(names: Names, member: string, overrides: Partial<MemberSpec> = {}): MemberSpec {
  return {
    member,
    run: names.run,
    groupId: names.groupId,
    topics: [names.topic],
    brokers: single.endpoints.kafkaBrokers,
    registryUrl: single.endpoints.registryUrl,
    postgresUrl: single.endpoints.postgresUrl,
    logFile: memberLogFile(names.run, member),
    ...overrides,
  };
}

/** `it` for a scenario: skipped when not in the quick subset (under --quick) or not picked (--only). */
export interface Repetition {
  /** 1-based. */
  index: number;
  count: number;
}

/**
 * `it` for a scenario: skipped when not in the quick subset (under --quick), not picked (--only)
 * or about a feature the run's client lacks (`transports`). A rare failure needs many runs to
 * show: `repeat` runs it that many times (full run, quick run), `--repeat N` overrides both.
 */
export function scenario(
  id: string,
  title: string,
  options: { quick: boolean; timeoutMs: number; repeat?: { full: number; quick: number }; transports?: readonly KafkaClientName[] },
  fn: (repetition: Repetition) => Promise<void>,
): void {
  const only = process.env.EVKIT_FAULTS_ONLY?.split(',').map((s) => s.trim()).filter(Boolean);
  const chosen = only && only.length > 0 ? only.some((o) => id === o || id.startsWith(o) && /^[a-z]$/.test(id.slice(o.length))) : !QUICK || options.quick;
  const picked = chosen && (options.transports === undefined || options.transports.includes(TRANSPORT));
  const count = REPEAT ?? (options.repeat ? (QUICK ? options.repeat.quick : options.repeat.full) : 1);
  for (let index = 1; index <= count; index += 1) {
    const label = count === 1 ? '' : ` (run ${index} of ${count})`;
    (picked ? it : it.skip)(`${id}: ${title}${label}`, () => fn({ index, count }), options.timeoutMs);
  }
}

/** A scenario title with its repetition, when it has more than one. */
export function titled(title: string, { index, count }: Repetition): string {
  return count === 1 ? title : `${title} (run ${index} of ${count})`;
}
