import type { Pool } from 'pg';
import { interleave } from '../harness/interleave';
import { nodeVariant, startAll } from '../harness/variants';
import type { SagaRun } from '../workers/saga';
import { selected, type ScenarioContext, type ScenarioResult } from './types';

/** Sagas per run, in-flight sagas of the closed loop, and the fixed rate (sagas/s) below saturation. */
function sizes(ctx: ScenarioContext) {
  return ctx.settings.mode === 'quick' ? { sagas: 40, concurrency: 8, rate: 10 } : { sagas: 600, concurrency: 32, rate: 20 };
}

/** The PostgreSQL schemas of a run's saga variants, with their tables; also for `--cleanup` of an interrupted run. */
export async function dropSagaSchemas(pool: Pool, runId: string): Promise<void> {
  const { rows } = await pool.query<{ name: string }>('SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE $1', [`bench\\_${runId}\\_saga\\_%`]);
  for (const { name } of rows) await pool.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
}

/**
 * Orders through a three-step saga (reserve stock → charge payment, the pivot → ship), end to end:
 * every command and reply an outbox row relayed to Kafka and handled by an evkit consumer with
 * dedupe. Two variants: a closed loop (the most sagas per second it sustains) and a fixed rate
 * below it (the duration a saga takes when the system keeps up).
 */
export async function sagaScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  const { settings, resources, endpoints } = ctx;
  const { sagas, concurrency, rate } = sizes(ctx);
  // A PostgreSQL schema per variant: each worker's relay reads only its own outbox.
  const schemaOf = (id: string) => `bench_${ctx.runId}_saga_${id.replace(/-/g, '_')}`;
  const variants = [
    { id: 'closed-loop', label: `closed loop, ${concurrency} sagas in flight`, run: { concurrency } },
    { id: `rate-${rate}`, label: `fixed rate, ${rate} sagas/s`, run: { rate } },
  ].filter((v) => selected(ctx, [v.id]).length > 0);
  const prefix = (id: string) => resources.topic('saga', id);
  await resources.createTopics(variants.flatMap(({ id }) => ['stock', 'payment', 'shipping', 'replies'].map((t) => `${prefix(id)}.${t}`)));
  ctx.log(`saga: ${sagas} sagas per run; closed loop with ${concurrency} in flight, and ${rate} sagas/s`);
  try {
    const started = await startAll(
      variants.map(({ id, label, run }) => () =>
        nodeVariant({
          id,
          label,
          what: '@evkit/saga orchestrator + three participants (evkit consumers with PostgreSQL dedupe, replying with `write` in the handler\'s transaction) + evkit\'s polling relay, one process',
          spec: { kind: 'saga', schema: schemaOf(id), topicPrefix: prefix(id) },
          endpoints,
          payload: (rep): SagaRun => ({ run: `${id}-${rep}`, sagas, ...run }),
        }),
      ),
    );
    const results = await interleave(started, settings, ctx.log);
    return {
      id: 'saga',
      title: `Sagas end to end: three steps through the outbox and Kafka`,
      description:
        `${sagas.toLocaleString('en-US')} sagas per run, each reserve stock → charge payment (pivot) → ship: the orchestrator (@evkit/saga: ` +
        `state, timer and history rows in PostgreSQL) writes each command to the outbox in the transaction of its state change, the ` +
        `polling relay (LISTEN/NOTIFY, defaults) publishes it, a participant (an evkit consumer with PostgreSQL dedupe) replies through ` +
        `the outbox in its handler's transaction, and the orchestrator's reply consumer (dedupe) applies the reply and sends the next ` +
        `command: six outbox rows, six relayed records and six deduplicated handlings per saga, one process, 6-partition topics. ` +
        `Records/s is sagas completed per second. Duration: from the begin (closed loop) or from when the saga was due (fixed rate, ` +
        `so a late begin counts) until the orchestrator handled the last reply. Every saga of a run must end completed.`,
      kind: 'latency',
      baseline: 'closed-loop',
      variants: results,
      notes: [],
      profiles: [],
    };
  } finally {
    await dropSagaSchemas(resources.pool, ctx.runId).catch((error: unknown) => ctx.log(`saga: dropping its PostgreSQL schemas: ${String(error)}`));
  }
}
