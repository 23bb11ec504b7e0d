import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Pool } from 'pg';
import { createSaga, type Saga } from '@evkit/saga';
import { assertPassed, recordFigures } from '../support/checker';
import { sized } from '../support/env';
import { bound, isProcessAlive, kill9, pause, resume, sleep, withChildren } from '../support/faults';
import { checkerPool, namesFor, scenario, single, upSingle } from '../support/harness';
import { createTopic } from '../support/kafka';
import { memberLogFile } from '../support/member';
import {
  EFFECTS_SQL, sagaDefinition, sagaEvkit, sagaFigures, sagaPool, startOrchestrator, startParticipants, toFigures,
  type Begun, type Order, type Plan, type SagaSpec,
} from './13-saga.workload';

// 13. Sagas (@evkit/saga): the order saga of the workload, begun N times while the orchestrator
// is killed or the database paused, or while a compensation is refused twice. Every scenario
// reports sagas lost, double compensations and commands sent without their state; each must be 0.
//   13a  the orchestrator killed (kill -9) between receiving a reply and committing its transition
//   13b  PostgreSQL paused (SIGSTOP) while a saga transition commits
//   13c  a compensation refused twice, then done: the saga retries it and ends compensated

let pool: Pool;
beforeAll(async () => {
  await upSingle();
  pool = checkerPool();
  await pool.query(EFFECTS_SQL);
}, 300_000);
afterAll(async () => {
  await pool?.end();
});

interface Fault {
  faultAt?: number;
  healAt?: number;
  notes: string[];
  stop: () => Promise<void>;
}

interface SagaScenario {
  id: string;
  title: string;
  plan: (i: number) => Plan;
  awaitRelease: boolean;
  /** Starts the orchestrator(s) and injects the fault; resolves once the fault is over. */
  orchestrate: (spec: SagaSpec, begun: () => number) => Promise<Fault>;
}

async function runSagaScenario(s: SagaScenario): Promise<void> {
  const startedAt = Date.now();
  const names = namesFor(s.id);
  const spec: SagaSpec = {
    run: names.run,
    brokers: single.endpoints.kafkaBrokers,
    registryUrl: single.endpoints.registryUrl,
    postgresUrl: single.endpoints.postgresUrl,
    commands: `${names.topic}.commands`,
    replies: `${names.topic}.replies`,
    table: `faults_saga_${names.run.replace(/-/g, '_')}`,
    logFile: memberLogFile(names.run, 'shop'),
    awaitRelease: s.awaitRelease,
  };
  await createTopic(spec.brokers, spec.commands);
  await createTopic(spec.brokers, spec.replies);
  const shopPool = sagaPool(spec, 6);
  const shop = sagaEvkit(spec, shopPool, '/faults-saga-shop');
  const orders: Saga<Order> = createSaga({ evkit: shop, definition: sagaDefinition(spec), replyTopics: [spec.replies], table: spec.table });
  await shop.migrate();
  await orders.migrate();
  const participants = startParticipants(spec, shop);
  await participants.start();
  const count = sized(40, 20);
  const begun: Begun[] = [];
  let fault: Fault | undefined;
  try {
    const faulted = s.orchestrate(spec, () => begun.length);
    // The shop begins sagas meanwhile; a begin that fails (the database away) is tried again,
    // and one whose COMMIT outcome was unknown finds its saga there (EVKIT_SAGA_ALREADY_EXISTS).
    for (let i = 0; i < count; i += 1) {
      const plan = s.plan(i);
      const id = `${names.run}-${i}`;
      for (;;) {
        try {
          await shop.inTransaction((tx) => orders.begin(tx, { id, data: { orderId: id, plan } }));
          break;
        } catch (error) {
          if ((error as { code?: string }).code === 'EVKIT_SAGA_ALREADY_EXISTS') break;
          await sleep(500);
        }
      }
      begun.push({ id, expected: plan === 'ok' ? 'completed' : 'compensated' });
      await sleep(150);
    }
    fault = await faulted;
    const drained = await drainSagas(orders, begun, 180_000);
    const measured = await sagaFigures(pool, spec, begun);
    const figures = toFigures({ scenario: s.id, title: s.title, startedAt, notes: [...fault.notes, ...(drained ? [] : ['did not drain within 180 s'])] }, begun.length, measured);
    // With awaited releases each refused one is sent again: three sends per compensated saga.
    const compensated = begun.filter((b) => b.expected === 'compensated').length;
    const expectedSends = s.awaitRelease ? 3 * compensated : compensated;
    if (measured.compensationsSent !== expectedSends) figures.failures.push(`${measured.compensationsSent} compensation command(s) sent, expected ${expectedSends}`);
    recordFigures(figures);
    assertPassed(figures);
  } finally {
    await fault?.stop().catch(() => {});
    await participants.stop().catch(() => {});
    await shop.close().catch(() => {});
    await shopPool.end().catch(() => {});
  }
}

async function drainSagas(orders: Saga<Order>, begun: readonly Begun[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = [...(await orders.list({ status: 'running', limit: 10_000 })), ...(await orders.list({ status: 'compensating', limit: 10_000 }))];
    const all = await orders.list({ limit: 10_000 });
    if (open.length === 0 && all.length >= begun.length) return true;
    await sleep(500);
  }
  return false;
}

/** The orchestrator in a child process; resolves once it runs, with a promise of its held COMMIT. */
async function startChild(spec: SagaSpec, member: string): Promise<{ pid: number; held: Promise<number>; stop: () => Promise<void> }> {
  const logFile = memberLogFile(spec.run, member);
  const log = fs.openSync(logFile, 'a');
  const child = fork(path.join(__dirname, '13-saga-orchestrator.child.ts'), [], {
    execArgv: ['--enable-source-maps', '-r', path.join(__dirname, '..', 'support', 'register.js')],
    stdio: ['ignore', log, log, 'ipc'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  fs.closeSync(log);
  const pid = child.pid!;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let held!: (nth: number) => void;
  const heldAt = new Promise<number>((resolve) => (held = resolve));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`orchestrator ${member} did not start within 90 s; see ${logFile}`)), 90_000);
    child.on('message', (m: { type: string; nth?: number; message?: string }) => {
      if (m.type === 'started') {
        clearTimeout(timer);
        resolve();
      }
      if (m.type === 'failed') {
        clearTimeout(timer);
        reject(new Error(`orchestrator ${member}: ${m.message}; see ${logFile}`));
      }
      if (m.type === 'held') held(m.nth!);
    });
    child.send({ type: 'start', spec: { ...spec, logFile } });
  });
  return {
    pid,
    held: heldAt,
    async stop() {
      if (!isProcessAlive(pid)) return;
      if (child.connected) child.send({ type: 'stop' });
      await Promise.race([exited, bound(60_000)]);
      if (isProcessAlive(pid)) await kill9(pid, `orchestrator ${member}`);
    },
  };
}

const mixed = (i: number): Plan => (i % 3 === 1 ? 'decline' : 'ok');

scenario('13a', 'saga orchestrator kill -9 between a reply and its commit', { quick: true, timeoutMs: 600_000 }, async () => {
  const kills = sized(2, 1);
  const holdAt = sized(12, 8);
  await runSagaScenario({
    id: '13a',
    title: `Saga orchestrator kill -9 between receiving a reply and committing (${kills}×)`,
    plan: mixed,
    awaitRelease: false,
    async orchestrate(spec) {
      const notes: string[] = [];
      let faultAt = 0;
      for (let i = 1; i <= kills; i += 1) {
        const child = await startChild({ ...spec, holdAt }, `orchestrator${i}`);
        const nth = await Promise.race([child.held, bound(240_000).then(() => 0)]);
        if (nth === 0) throw new Error(`orchestrator${i} never reached saga transition ${holdAt}`);
        const killedAt = await kill9(child.pid, `orchestrator${i}`);
        faultAt ||= killedAt;
        notes.push(`orchestrator${i} (pid ${child.pid}) killed with saga transitions up to its ${nth}th written, before their COMMIT`);
      }
      const last = await startChild(spec, `orchestrator${kills + 1}`);
      notes.push('a replacement started at once; session timeout 10 s before the group moves the reply partitions to it');
      return { faultAt, healAt: Date.now(), notes, stop: last.stop };
    },
  });
});

scenario('13b', 'PostgreSQL paused while a saga transition commits', { quick: true, timeoutMs: 600_000 }, async () => {
  const pausedMs = sized(20_000, 12_000);
  const holdAt = sized(12, 8);
  let paused: number[] = [];
  let resumed: Promise<void> | undefined;
  try {
    await runSagaScenario({
      id: '13b',
      title: `PostgreSQL paused ${pausedMs / 1000} s while a saga transition commits`,
      plan: mixed,
      awaitRelease: false,
      async orchestrate(spec) {
        let faultAt = 0;
        let healAt = 0;
        const orchestrator = await startOrchestrator(spec, (nth) => {
          if (nth >= holdAt && faultAt === 0) {
            paused = withChildren(single.pidOf('postgres')!);
            faultAt = pause(paused);
            resumed = sleep(pausedMs).then(() => void (healAt = resume(paused)));
          }
          // The COMMIT goes at once, to a database that no longer answers.
          return Promise.resolve();
        });
        const started = Date.now();
        while (faultAt === 0 && Date.now() - started < 240_000) await sleep(100);
        if (faultAt === 0) throw new Error(`saga transition ${holdAt} never came`);
        await resumed;
        return { faultAt, healAt, notes: [`paused ${paused.length} PostgreSQL processes for ${pausedMs / 1000} s at the COMMIT of saga transition ${holdAt}`], stop: () => orchestrator.stop() };
      },
    });
  } finally {
    if (paused.length > 0) resume(paused);
  }
});

scenario('13c', 'a compensation refused twice, then done', { quick: true, timeoutMs: 600_000 }, async () => {
  await runSagaScenario({
    id: '13c',
    title: 'Compensation refused twice, then done (saga retries it)',
    plan: () => 'release-fails-twice',
    awaitRelease: true,
    async orchestrate(spec) {
      const orchestrator = await startOrchestrator(spec);
      return { notes: ['every saga declined; its stock release answered release-failed twice, then released'], stop: () => orchestrator.stop() };
    },
  });
});
