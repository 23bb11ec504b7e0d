import * as fs from 'node:fs';
import { Pool, type PoolClient } from 'pg';
import { createAvroCodec, type AvroCodec } from '@evkit/codec';
import type { Middleware } from '@evkit/consumer';
import { isEvkitError } from '@evkit/errors';
import type { BatchingIdempotencyStore, IdempotencyBatch, PostgresIdempotencyStore } from '@evkit/idempotency';
import type { ServiceConsumer } from '@evkit/service';
import { createJsonLogger, type Logger } from '@evkit/telemetry';
import { stepEvkit, STEP_SCHEMA, STEP_TYPE, type Step, type StepEvents } from './step';

// The one workload every scenario runs, and the consumer side of it: a handler whose side effect
// is a row in PostgreSQL written in the dedupe store's transaction, and a recorder around it that
// logs every delivery and its outcome. The checker reads both tables (checker.ts). Used in the
// test process and in the child processes the suite kills or pauses (member.ts).

// The suite's files take the event from here, with the rest of the workload.
export { STEP_SCHEMA, STEP_TYPE, type Step } from './step';

/** Side effects (no unique constraint: a second application shows as a second row) and deliveries. */
export const TABLES_SQL = `
CREATE TABLE IF NOT EXISTS faults_effects (
  id         bigserial PRIMARY KEY,
  run        text NOT NULL,
  uid        text NOT NULL,
  key        text NOT NULL,
  seq        int NOT NULL,
  member     text NOT NULL,
  applied_ms bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS faults_effects_run_idx ON faults_effects (run);
CREATE TABLE IF NOT EXISTS faults_deliveries (
  id      bigserial PRIMARY KEY,
  run     text NOT NULL,
  uid     text,
  key     text,
  seq     int,
  member  text NOT NULL,
  outcome text NOT NULL,
  code    text,
  at_ms   bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS faults_deliveries_run_idx ON faults_deliveries (run);
`;

export const PROCESSED_EVENTS_TABLE = 'faults_processed_events';

/** What a handler hook is told: where it is and which event. */
export interface HookPoint {
  /** `in-transaction`: effect written, transaction not committed. `after-commit`: committed, offset not. */
  phase: 'in-transaction' | 'after-commit';
  /** 1-based: in-transaction, the nth handler call of this member that wrote its effect; after-commit, the nth commit. */
  nth: number;
  step: Step;
}

export interface MemberSpec {
  /** Names the consumer in the records (effects.member, deliveries.member). */
  member: string;
  /** The run its records belong to (effects.run, deliveries.run): one per consumer group checked. */
  run: string;
  groupId: string;
  topics: string[];
  brokers: string[];
  registryUrl: string;
  postgresUrl: string;
  /** Retry tiers and dead letters; without it, failures stall and redeliver in place. */
  routing?: { mode: 'blocking' | 'non-blocking'; maxAttempts: number; delaysMs: number[] };
  keyConcurrency?: number;
  /** Work time of each handler call, inside the transaction. */
  slowMs?: number;
  /** Keys whose events always fail (a retriable error). */
  failKeys?: string[];
  /**
   * Keys whose handler hangs on an external call (scenario 12). `ignore`: the call ignores
   * `context.signal` and returns after `lateMs` (never, without it), then the handler writes its
   * effect, which must not commit. `honour`: the call rejects when the signal aborts.
   */
  hang?: { keys: string[]; signal: 'ignore' | 'honour'; lateMs?: number };
  sessionTimeout?: number;
  /** Static membership (@platformatic/kafka only): members started one after another under one name. */
  groupInstanceId?: string;
  heartbeatInterval?: number;
  rebalanceTimeout?: number;
  handlerTimeoutMs?: number;
  failureBackoff?: { initialMs?: number; maxMs?: number };
  commitIntervalMs?: number;
  /** pg's connectionTimeoutMillis for the store's pool. */
  pgConnectTimeoutMs?: number;
  /** The consumer's dedupeBatching: one PostgreSQL transaction per Kafka batch. */
  dedupeBatching?: boolean;
  /** The codec's registry request timeout. */
  registryTimeoutMs?: number;
  logFile: string;
}

export interface MemberHandle {
  consumer: ServiceConsumer<StepEvents, PoolClient>;
  /** Lets a failing key through from now on (scenario 11: the bug is fixed, replay). */
  heal(key: string): void;
  stop(): Promise<void>;
  /** Record writes that failed (they are best effort: the record must never change the outcome). */
  recordFailures(): number;
}

export function fileLogger(logFile: string): { logger: Logger } {
  const write = (line: string) => {
    try {
      fs.appendFileSync(logFile, `${line}\n`);
    } catch {
      // the log is for people; losing a line must not change the run
    }
  };
  return { logger: createJsonLogger('info', write) };
}

export function createStepCodec(registryUrl: string, timeoutMs = 5000): AvroCodec {
  return createAvroCodec({ registry: { url: registryUrl, timeoutMs } });
}

export function createMember(spec: MemberSpec, hook?: (point: HookPoint) => Promise<void>): MemberHandle {
  const { logger } = fileLogger(spec.logFile);
  const pool = new Pool({ connectionString: spec.postgresUrl, max: 8, connectionTimeoutMillis: spec.pgConnectTimeoutMs ?? 10_000 });
  pool.on('error', () => {});
  // Records go through a pool of their own, outside the handler's transaction.
  const recordPool = new Pool({ connectionString: spec.postgresUrl, max: 2, connectionTimeoutMillis: 60_000 });
  recordPool.on('error', () => {});
  const evkit = stepEvkit(
    {
      brokers: spec.brokers,
      clientId: spec.member,
      registryUrl: spec.registryUrl,
      ...(spec.registryTimeoutMs === undefined ? {} : { registryTimeoutMs: spec.registryTimeoutMs }),
      logger,
    },
    { pool, processedEventsTable: PROCESSED_EVENTS_TABLE },
  );
  const failing = new Set(spec.failKeys ?? []);
  const hanging = new Set(spec.hang?.keys ?? []);
  let applied = 0; // handler calls that wrote the effect (their transaction may still roll back)
  let committed = 0; // effects whose transaction committed
  let recordFailures = 0;

  const record = async (step: Partial<Step>, outcome: string, code?: string) => {
    try {
      await recordPool.query('INSERT INTO faults_deliveries (run, uid, key, seq, member, outcome, code, at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
        spec.run,
        step.uid ?? null,
        step.key ?? null,
        step.seq ?? null,
        spec.member,
        outcome,
        code ?? null,
        Date.now(),
      ]);
    } catch {
      recordFailures += 1;
    }
  };

  const afterCommit = async (step: Step) => {
    committed += 1;
    if (hook) await hook({ phase: 'after-commit', nth: committed, step });
  };
  // With dedupeBatching an effect commits with its batch, not when its handler returns: the
  // after-commit hook runs once the batch's COMMIT is done, before the offset commit.
  const steps = new Map<string, Step>(); // event id → step, of the calls in flight
  const observeCommits = (postgresStore: PostgresIdempotencyStore): BatchingIdempotencyStore => ({
    ...postgresStore,
    async beginBatch(group, eventIds) {
      const batch = await postgresStore.beginBatch(group, eventIds);
      const done: Step[] = [];
      const hooked: IdempotencyBatch = {
        async runOnce(group, eventId, work, options) {
          const outcome = await batch.runOnce(group, eventId, work, options);
          const step = steps.get(eventId);
          if (!outcome.duplicate && step) done.push(step);
          return outcome;
        },
        failure: () => batch.failure?.(),
        async commit() {
          await batch.commit();
          for (const step of done) await afterCommit(step);
        },
      };
      return hooked;
    },
  });

  /** Outside dedupe, inside retry routing: sees every call and whether dedupe absorbed it. */
  const recorder: Middleware = (next) => async (event, context) => {
    const step = event.data as Step;
    steps.set(event.id, step);
    try {
      await next(event, context);
    } catch (error) {
      await record(step, 'failed', isEvkitError(error) ? error.code : error instanceof Error ? error.name : 'thrown');
      throw error;
    } finally {
      steps.delete(event.id);
    }
    await record(step, context.duplicate ? 'duplicate' : 'applied');
    if (!context.duplicate && !spec.dedupeBatching) await afterCommit(step);
  };

  const { routing } = spec;
  const consumer = evkit.consumer({
    groupId: spec.groupId,
    topics: spec.topics,
    fromBeginning: true,
    // Exact delays: the scenarios time retries (latency of the other keys, dead letters).
    retry: routing ? { mode: routing.mode, attempts: routing.maxAttempts, delaysMs: routing.delaysMs, jitter: 0 } : false,
    dedupe: spec.dedupeBatching ? { store: observeCommits } : true,
    // Explicit both ways: batching is the default with this store, and the per-record scenarios must stay per record.
    dedupeBatching: spec.dedupeBatching === true,
    // Listed middleware runs inside the failure routing and outside dedupe: where the recorder must be.
    middleware: [recorder],
    group: {
      ...(spec.sessionTimeout === undefined ? {} : { sessionTimeout: spec.sessionTimeout }),
      ...(spec.groupInstanceId === undefined ? {} : { groupInstanceId: spec.groupInstanceId }),
      ...(spec.heartbeatInterval === undefined ? {} : { heartbeatInterval: spec.heartbeatInterval }),
      ...(spec.rebalanceTimeout === undefined ? {} : { rebalanceTimeout: spec.rebalanceTimeout }),
    },
    ...(spec.keyConcurrency === undefined ? {} : { keyConcurrency: spec.keyConcurrency }),
    ...(spec.handlerTimeoutMs === undefined ? {} : { handlerTimeoutMs: spec.handlerTimeoutMs }),
    failureBackoff: spec.failureBackoff ?? { initialMs: 100, maxMs: 2000 },
    ...(spec.commitIntervalMs === undefined ? {} : { commitIntervalMs: spec.commitIntervalMs }),
  });
  consumer.on(
    STEP_TYPE,
    async (event, context) => {
      const step = event.data;
      if (spec.slowMs) await sleep(spec.slowMs);
      if (failing.has(step.key)) throw new Error(`key ${step.key} always fails (seq ${step.seq})`);
      if (spec.hang && hanging.has(step.key)) await hungCall(spec.hang, context.signal);
      await context.transaction.query('INSERT INTO faults_effects (run, uid, key, seq, member, applied_ms) VALUES ($1, $2, $3, $4, $5, $6)', [
        spec.run,
        step.uid,
        step.key,
        step.seq,
        spec.member,
        Date.now(),
      ]);
      applied += 1;
      if (hook) await hook({ phase: 'in-transaction', nth: applied, step });
    },
    { readerSchema: STEP_SCHEMA },
  );

  return {
    consumer,
    heal: (key) => failing.delete(key),
    async stop() {
      await evkit.close();
      await Promise.all([pool.end(), recordPool.end()]);
    },
    recordFailures: () => recordFailures,
  };
}

/** An external call that hangs: ignoring the signal (settling late, or never), or honouring it. */
function hungCall(hang: NonNullable<MemberSpec['hang']>, signal: AbortSignal): Promise<void> {
  if (hang.signal === 'honour') {
    return new Promise<void>((_resolve, reject) => {
      const abort = () => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      if (signal.aborted) abort();
      else signal.addEventListener('abort', abort, { once: true });
    });
  }
  return hang.lateMs === undefined ? new Promise<void>(() => undefined) : sleep(hang.lateMs);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
