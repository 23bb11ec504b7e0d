import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'pg';
import { createSaga, defineSaga } from '@evkit/saga';
import { createEvkit, type EventCatalogue, type Evkit } from '@evkit/service';
import { createJsonLogger } from '@evkit/telemetry';
import { KAFKAJS_LOG_LEVEL } from '../clients/kafkajs';
import { measurement, type Endpoints, type Measurement, type WorkerHandler, type WorkerSpec } from '../harness/protocol';
import { percentiles } from '../stats';

// An order saga end to end in one process, as three services and an orchestrator would run it:
// createSaga (state, timers, history in PostgreSQL), three participants that are evkit consumers
// with dedupe replying through the outbox, and evkit's polling relay carrying every command and
// reply to Kafka. A saga's duration runs from its begin (or when it was due, at a fixed rate) to
// the orchestrator having handled the last step's reply.

export interface SagaRun {
  /** Prefix of this run's saga ids. */
  run: string;
  sagas: number;
  /** Closed loop: this many sagas in flight, a new one begun as one completes. */
  concurrency?: number;
  /** Fixed rate: sagas begun per second on a schedule (a late begin counts from when it was due). */
  rate?: number;
}

const STEP_SCHEMA = Object.freeze({
  type: 'record',
  name: 'BenchSagaMessage',
  namespace: 'dev.evkit.bench.saga',
  fields: [{ name: 'orderId', type: 'string' }, { name: 'amountCents', type: 'long' }],
});
interface Message {
  orderId: string;
  amountCents: number;
}
const TYPES = {
  reserve: 'dev.evkit.bench.stock.reserve',
  reserved: 'dev.evkit.bench.stock.reserved',
  release: 'dev.evkit.bench.stock.release',
  charge: 'dev.evkit.bench.payment.charge',
  charged: 'dev.evkit.bench.payment.charged',
  ship: 'dev.evkit.bench.shipping.request',
  shipped: 'dev.evkit.bench.shipping.shipped',
} as const;
type Events = { [K in (typeof TYPES)[keyof typeof TYPES]]: Message };
const CATALOGUE: EventCatalogue<Events> = { schemas: Object.fromEntries(Object.values(TYPES).map((type) => [type, STEP_SCHEMA])) as EventCatalogue<Events>['schemas'] };
/** Never reached in a healthy run; there so every transition keeps its timer row, as a real saga does. */
const STEP_TIMEOUT_MS = 60_000;
/** Begin transactions in flight at most at a fixed rate (a late begin shows up as duration, not as a lower rate). */
const BEGINNERS = 8;
const RUN_TIMEOUT_MS = 180_000;

export async function sagaWorker(spec: Extract<WorkerSpec, { kind: 'saga' }>, endpoints: Endpoints): Promise<WorkerHandler> {
  const topic = (name: string) => `${spec.topicPrefix}.${name}`;
  // Tables in a schema of the run's own: the outbox is `evkit_outbox` there, out of reach of a
  // Debezium connector on public.evkit_outbox (the demo leaves one) that would relay it twice.
  const pool = new Pool({ connectionString: endpoints.postgresUrl, max: 16, options: `-c search_path=${spec.schema}` });
  const evkit: Evkit<Events, true> = createEvkit({
    source: '/bench/orders',
    catalogue: CATALOGUE,
    kafka: { brokers: endpoints.brokers, clientId: 'bench-saga', logLevel: KAFKAJS_LOG_LEVEL },
    registry: { url: endpoints.registryUrl },
    postgres: { pool },
    logger: createJsonLogger('error'),
  });
  const waiting = new Map<string, (at: number) => void>();
  const completed = (sagaId: string) => {
    waiting.get(sagaId)?.(performance.now());
    waiting.delete(sagaId);
  };
  const data = (o: Message) => o;
  const saga = createSaga({
    evkit,
    definition: defineSaga<Events, Message>({
      name: 'bench-order',
      steps: [
        { name: 'reserve-stock', command: { topic: topic('stock'), type: TYPES.reserve, data }, success: TYPES.reserved, compensation: { topic: topic('stock'), type: TYPES.release, data }, timeoutMs: STEP_TIMEOUT_MS },
        { name: 'charge-payment', pivot: true, command: { topic: topic('payment'), type: TYPES.charge, data }, success: TYPES.charged, timeoutMs: STEP_TIMEOUT_MS },
        { name: 'ship', command: { topic: topic('shipping'), type: TYPES.ship, data }, success: TYPES.shipped, timeoutMs: STEP_TIMEOUT_MS },
      ],
    }),
    replyTopics: [topic('replies')],
    // Not the default `saga-<name>`: each variant's orchestrator is a group of its own.
    groupId: topic('orchestrator'),
    logger: createJsonLogger('error'),
    consumer: {
      fromBeginning: true,
      // Inside the reply's dedupe transaction: the completing transition is written, its COMMIT follows.
      middleware: [(next) => async (event, ctx) => {
        await next(event, ctx);
        if (event.type === TYPES.shipped && !ctx.duplicate && event.correlationid) completed(event.correlationid);
      }],
    },
  });
  await evkit.inTransaction((tx) => tx.query(`CREATE SCHEMA IF NOT EXISTS ${spec.schema}`));
  await evkit.migrate();
  await saga.migrate();

  // The participants: each command handled with dedupe, answered in the same transaction.
  const participant = (name: string, command: keyof Events, reply: keyof Events) =>
    evkit
      .consumer({ groupId: topic(`${name}-service`), topics: [topic(name)], fromBeginning: true })
      .on(command, async (event, ctx) => {
        await evkit.write(ctx.transaction, topic('replies'), { type: reply, key: event.data.orderId, data: event.data });
      });
  const stock = participant('stock', TYPES.reserve, TYPES.reserved);
  const consumers = [stock, participant('payment', TYPES.charge, TYPES.charged), participant('shipping', TYPES.ship, TYPES.shipped)];
  await Promise.all([saga.start(), ...consumers.map((c) => c.start())]);
  evkit.startRelay();

  /** Begins a saga: `begun` when its begin transaction committed, `done` with the time its last reply was handled. */
  const startSaga: StartSaga = (id) => {
    const done = new Promise<number>((resolve) => waiting.set(id, resolve));
    const begun = evkit.inTransaction((tx) => saga.begin(tx, { id, data: { orderId: id, amountCents: 4200 } })).then(() => undefined);
    return { begun, done: begun.then(() => done) };
  };

  return {
    async run(payload): Promise<Measurement> {
      const { run, sagas, concurrency, rate } = payload as SagaRun;
      const durations: number[] = [];
      const started = performance.now();
      const work = rate === undefined ? closedLoop(run, sagas, concurrency ?? 1, startSaga, durations) : fixedRate(run, sagas, rate, startSaga, durations, started);
      const timeout = sleep(RUN_TIMEOUT_MS).then(() => 'timeout' as const);
      if ((await Promise.race([work, timeout])) === 'timeout') {
        throw new Error(`saga: ${durations.length} of ${sagas} sagas completed within ${RUN_TIMEOUT_MS / 1000} s`);
      }
      const elapsedMs = performance.now() - started;
      // Every saga of the run must have ended completed: a fast but wrong run is no result. The
      // last transitions were written, not necessarily committed yet: wait (bounded) for them.
      const notCompleted = async () => {
        const { rows } = await pool.query<{ status: string; n: string }>(`SELECT status, count(*) AS n FROM evkit_saga WHERE id LIKE $1 AND status <> 'completed' GROUP BY status`, [`${run}-%`]);
        return rows.map((r) => `${r.n} ${r.status}`);
      };
      let wrong = await notCompleted();
      for (let i = 0; wrong.length > 0 && i < 100; i++, wrong = await notCompleted()) await sleep(100);
      if (wrong.length > 0) throw new Error(`saga: sagas not completed: ${wrong.join(', ')}`);
      const [p50Ms, p99Ms] = percentiles(durations, [0.5, 0.99]) as [number, number];
      return measurement(sagas, elapsedMs, { p50Ms, p99Ms });
    },
    async stop() {
      await saga.stop();
      await evkit.close();
      await pool.end();
    },
  };
}

type StartSaga = (id: string) => { begun: Promise<void>; done: Promise<number> };

async function closedLoop(run: string, sagas: number, concurrency: number, startSaga: StartSaga, durations: number[]): Promise<void> {
  let next = 0;
  const loop = async () => {
    while (next < sagas) {
      const id = `${run}-${next++}`;
      const begun = performance.now();
      durations.push((await startSaga(id).done) - begun);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
}

async function fixedRate(run: string, sagas: number, rate: number, startSaga: StartSaga, durations: number[], started: number): Promise<void> {
  const all: Promise<void>[] = [];
  const beginning = new Set<Promise<void>>();
  for (let i = 0; i < sagas; i++) {
    const dueAt = started + (i * 1000) / rate;
    const wait = dueAt - performance.now();
    if (wait > 1) await sleep(wait);
    while (beginning.size >= BEGINNERS) await Promise.race(beginning);
    const { begun, done } = startSaga(`${run}-${i}`);
    beginning.add(begun);
    void begun.finally(() => beginning.delete(begun)).catch(() => undefined);
    all.push(done.then((at) => void durations.push(at - dueAt)));
  }
  await Promise.all(all);
}
