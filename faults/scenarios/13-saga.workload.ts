import { Pool, type PoolClient } from 'pg';
import { createSaga, type Saga, type SagaDefinition } from '@evkit/saga';
import { createEvkit, type Evkit } from '@evkit/service';
import type { Figures } from '../support/checker';
import { TRANSPORT } from '../support/env';
import { fileLogger } from '../support/workload';

// Scenario 13's workload (not a scenario file itself: Jest runs *.fault.ts only): an order saga
// (reserve stock → charge payment (pivot) → ship), participants that record each command's
// effect in the dedupe transaction, an orchestrator whose COMMITs can be held at the nth saga
// transition (to kill or pause around it), and the saga figures.

const Msg = { type: 'record', name: 'SagaFaultMsg', namespace: 'evkit.faults', fields: [{ name: 'orderId', type: 'string' }, { name: 'plan', type: 'string' }] } as const;
interface Msg {
  orderId: string;
  plan: string;
}
const TYPES = [
  'stock.reserve', 'stock.reserved', 'stock.release', 'stock.released', 'stock.release-failed',
  'payment.charge', 'payment.charged', 'payment.declined', 'ship.request', 'ship.shipped',
] as const;
export type SagaEvents = { [K in (typeof TYPES)[number]]: Msg };
const catalogue = { schemas: Object.fromEntries(TYPES.map((t) => [t, Msg])) as { [K in keyof SagaEvents]: object }, dataTypes: undefined as SagaEvents | undefined };

/** `ok`: completes; `decline`: the payment is declined, the stock released; `release-fails-twice`: declined, and the release refused twice first. */
export type Plan = 'ok' | 'decline' | 'release-fails-twice';
export interface Order {
  orderId: string;
  plan: Plan;
}

export interface SagaSpec {
  run: string;
  brokers: string[];
  registryUrl: string;
  postgresUrl: string;
  commands: string;
  replies: string;
  table: string;
  logFile: string;
  /** The release waits for its confirmation and is retried by the saga (13c); otherwise it is fire-and-forget. */
  awaitRelease: boolean;
  /** Hold the first COMMIT that includes this (1-based) saga transition: for a kill or a pause around it. */
  holdAt?: number;
}

export const ORCHESTRATOR_SOURCE = '/faults-saga-orchestrator';

export function sagaDefinition(spec: SagaSpec): SagaDefinition<SagaEvents, Order> {
  const cmd = <K extends keyof SagaEvents>(type: K) => ({ topic: spec.commands, type, data: (o: Order) => ({ orderId: o.orderId, plan: o.plan }) });
  const release = spec.awaitRelease ? { success: 'stock.released' as const, failure: 'stock.release-failed' as const, timeoutMs: 60_000, retry: { attempts: 3 } } : {};
  return {
    name: `faults-order-${spec.run}`,
    steps: [
      { name: 'reserve-stock', command: cmd('stock.reserve'), success: 'stock.reserved', compensation: { ...cmd('stock.release'), ...release }, timeoutMs: 120_000 },
      { name: 'charge-payment', command: cmd('payment.charge'), success: 'payment.charged', failure: 'payment.declined', pivot: true, timeoutMs: 120_000 },
      { name: 'ship', command: cmd('ship.request'), success: 'ship.shipped' },
    ],
  };
}

export function sagaPool(spec: SagaSpec, max = 8): Pool {
  const pool = new Pool({ connectionString: spec.postgresUrl, max, connectionTimeoutMillis: 3000 });
  pool.on('error', () => {});
  return pool;
}

export function sagaEvkit(spec: SagaSpec, pool: Pool, source: string): Evkit<SagaEvents, true> {
  const { logger } = fileLogger(spec.logFile);
  return createEvkit({ source, catalogue, client: TRANSPORT, kafka: { brokers: spec.brokers }, registry: { url: spec.registryUrl, timeoutMs: 5000 }, postgres: { pool }, logger });
}

/**
 * Calls `hold(n)` before each COMMIT of a transaction that updated a saga row (a reply's or a
 * timer's transition), `n` counting the saga updates on `pool` so far (a batch of replies commits
 * several at once), and sends the COMMIT when it resolves.
 */
export function holdSagaCommits(pool: Pool, table: string, hold: (transitions: number) => Promise<void>): void {
  let transitions = 0;
  pool.on('connect', (client: PoolClient) => {
    let touched = false;
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string } | undefined)?.text;
      if (text?.startsWith(`UPDATE "${table}" `)) {
        touched = true;
        transitions += 1;
      }
      if (text === 'ROLLBACK') touched = false;
      if (text === 'COMMIT' && touched) {
        touched = false;
        return hold(transitions).then(() => query(...args));
      }
      return query(...args);
    };
  });
}

export interface Orchestrator {
  saga: Saga<Order>;
  stop(): Promise<void>;
}

/** The orchestrator: the saga's reply consumer, its timer poller and the outbox relay. */
export async function startOrchestrator(spec: SagaSpec, hold?: (nth: number) => Promise<void>): Promise<Orchestrator> {
  const pool = sagaPool(spec);
  if (hold) holdSagaCommits(pool, spec.table, hold);
  const evkit = sagaEvkit(spec, pool, ORCHESTRATOR_SOURCE);
  const saga = createSaga({
    evkit,
    definition: sagaDefinition(spec),
    replyTopics: [spec.replies],
    groupId: `faults-saga-${spec.run}`,
    table: spec.table,
    timers: { intervalMs: 200 },
    // Blocking retries: a reply that cannot be applied while the database is away is tried again
    // in place, never dead-lettered (a saga waiting for it would otherwise only time out).
    consumer: { fromBeginning: true, handlerTimeoutMs: 5000, retry: { mode: 'blocking', attempts: 100, delaysMs: [1000] }, group: { sessionTimeout: 10_000, heartbeatInterval: 1000 } },
  });
  await saga.start();
  evkit.startRelay({ intervalMs: 100 });
  return {
    saga,
    async stop() {
      await saga.stop();
      await evkit.close();
      await pool.end();
    },
  };
}

export const EFFECTS_SQL = `CREATE TABLE IF NOT EXISTS faults_saga_effects (
  run text NOT NULL, saga_id text NOT NULL, type text NOT NULL, event_id text PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())`;

/**
 * Inventory, payments and shipping in one consumer: each command's effect is a row written in
 * the dedupe transaction (once per event id), and the reply is published from the handler (so it
 * carries the saga id and names the command as its cause).
 */
export function startParticipants(spec: SagaSpec, evkit: Evkit<SagaEvents, true>) {
  const releases = new Map<string, number>();
  const consumer = evkit.consumer({
    groupId: `faults-saga-participants-${spec.run}`,
    topics: [spec.commands],
    fromBeginning: true,
    handlerTimeoutMs: 5000,
    retry: { mode: 'blocking', attempts: 100, delaysMs: [1000] },
  });
  const reply = (type: keyof SagaEvents, data: Msg) => evkit.publish(spec.replies, { type, key: data.orderId, data });
  const effect = (tx: PoolClient, event: { correlationid?: string; type: string; id: string }) =>
    tx.query('INSERT INTO faults_saga_effects (run, saga_id, type, event_id) VALUES ($1, $2, $3, $4)', [spec.run, event.correlationid, event.type, event.id]);
  consumer
    .on('stock.reserve', async (event, ctx) => {
      await effect(ctx.transaction, event);
      await reply('stock.reserved', event.data);
    })
    .on('payment.charge', async (event, ctx) => {
      if (event.data.plan !== 'ok') return void (await reply('payment.declined', event.data));
      await effect(ctx.transaction, event);
      await reply('payment.charged', event.data);
    })
    .on('ship.request', async (event, ctx) => {
      await effect(ctx.transaction, event);
      await reply('ship.shipped', event.data);
    })
    .on('stock.release', async (event, ctx) => {
      const refused = releases.get(event.data.orderId) ?? 0;
      if (event.data.plan === 'release-fails-twice' && refused < 2) {
        releases.set(event.data.orderId, refused + 1);
        if (spec.awaitRelease) return void (await reply('stock.release-failed', event.data));
        throw new Error(`release of ${event.data.orderId} refused (${refused + 1})`);
      }
      await effect(ctx.transaction, event);
      if (spec.awaitRelease) await reply('stock.released', event.data);
    });
  return consumer;
}

export interface Begun {
  id: string;
  expected: 'completed' | 'compensated';
}

/** The saga figures as the suite's table carries them (see `sagaFigureNames`). */
export async function sagaFigures(pool: Pool, spec: SagaSpec, begun: readonly Begun[]): Promise<{ lost: string[]; doubleCompensations: number; doubleEffects: number; commandsWithoutState: number; stateWithoutCommands: number; ignored: number; compensationsSent: number; finished: number }> {
  const ids = begun.map((b) => b.id);
  const { rows } = await pool.query<{ id: string; status: string }>(`SELECT id, status FROM "${spec.table}" WHERE id = ANY($1)`, [ids]);
  const status = new Map(rows.map((r) => [r.id, r.status]));
  const lost = begun.filter((b) => status.get(b.id) !== b.expected).map((b) => `${b.id}: ${status.get(b.id) ?? 'missing'}, expected ${b.expected}`);
  const doubles = await pool.query<{ type: string; n: string }>(
    "SELECT type, count(*) AS n FROM (SELECT saga_id, type FROM faults_saga_effects WHERE run = $1 GROUP BY saga_id, type HAVING count(*) > 1) d GROUP BY type",
    [spec.run],
  );
  const doubleCompensations = Number(doubles.rows.find((r) => r.type === 'stock.release')?.n ?? 0);
  const doubleEffects = doubles.rows.filter((r) => r.type !== 'stock.release').reduce((sum, r) => sum + Number(r.n), 0);
  const orphans = await pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM evkit_outbox o WHERE o.correlationid = ANY($1) AND NOT EXISTS (SELECT 1 FROM "${spec.table}_history" h WHERE h.event_id = o.id::text)`,
    [ids],
  );
  const unsent = await pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM "${spec.table}_history" h WHERE h.saga_id = ANY($1) AND h.kind LIKE '%-sent' AND NOT EXISTS (SELECT 1 FROM evkit_outbox o WHERE o.id::text = h.event_id)`,
    [ids],
  );
  const releases = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM evkit_outbox WHERE correlationid = ANY($1) AND type = 'stock.release'`, [ids]);
  const ignored = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${spec.table}_history" WHERE saga_id = ANY($1) AND kind = 'ignored'`, [ids]);
  return {
    lost,
    doubleCompensations,
    doubleEffects,
    commandsWithoutState: Number(orphans.rows[0]!.n),
    stateWithoutCommands: Number(unsent.rows[0]!.n),
    ignored: Number(ignored.rows[0]!.n),
    compensationsSent: Number(releases.rows[0]!.n),
    finished: rows.filter((r) => r.status === 'completed' || r.status === 'compensated').length,
  };
}

/**
 * The suite's figures for a saga scenario: events = sagas begun, handled = sagas finished, lost =
 * sagas lost (not finished as their plan says), duplicate effects = double compensations plus
 * commands applied twice, absorbed = replies recorded as ignored. The saga-only figure (commands
 * without their state, and the other way round) is a note, and a failure when not 0.
 */
export function toFigures(base: { scenario: string; title: string; startedAt: number; faultAt?: number; healAt?: number; notes: string[] }, begun: number, f: Awaited<ReturnType<typeof sagaFigures>>): Figures {
  const failures = [
    ...(f.lost.length > 0 ? [`${f.lost.length} saga(s) lost: ${f.lost.slice(0, 5).join('; ')}`] : []),
    ...(f.doubleCompensations > 0 ? [`${f.doubleCompensations} saga(s) compensated twice`] : []),
    ...(f.doubleEffects > 0 ? [`${f.doubleEffects} command(s) applied twice`] : []),
    ...(f.commandsWithoutState > 0 ? [`${f.commandsWithoutState} command(s) in the outbox without their saga state`] : []),
    ...(f.stateWithoutCommands > 0 ? [`${f.stateWithoutCommands} command(s) recorded as sent but not in the outbox`] : []),
  ];
  return {
    scenario: base.scenario,
    title: base.title,
    events: begun,
    attempts: begun,
    sendFailures: 0,
    handled: f.finished,
    lost: f.lost.length,
    duplicateEffects: f.doubleCompensations + f.doubleEffects,
    absorbed: f.ignored,
    orderViolations: 0,
    orderPromised: false,
    unseen: 0,
    unacknowledgedHandled: 0,
    deadLettered: 0,
    recoveryMs: null,
    longestStallMs: null,
    durationMs: Date.now() - base.startedAt,
    notes: [
      `sagas: ${begun} begun, ${f.finished} finished, ${f.lost.length} lost; double compensations ${f.doubleCompensations}; commands sent without their state ${f.commandsWithoutState} (state without its commands ${f.stateWithoutCommands}); replies recorded as ignored ${f.ignored}; compensation commands sent ${f.compensationsSent}`,
      ...base.notes,
    ],
    failures,
  };
}
