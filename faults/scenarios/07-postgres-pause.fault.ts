import type { Pool } from 'pg';
import { sized } from '../support/env';
import { pause, resume, sleep, withChildren } from '../support/faults';
import { checkerPool, scenario, single, upSingle } from '../support/harness';
import { runLoadScenario } from '../support/kit';

// 7. PostgreSQL paused (SIGSTOP of the postmaster and every backend) during the dedupe write:
// a handler has written its effect and the processed-event row, and its COMMIT is on its way
// when the database stops answering. The handler times out (handlerTimeoutMs), the partition
// is redelivered and the new attempt waits; new connections time out. When the database
// resumes the first COMMIT lands, and the redelivery must find the event processed.

let pool: Pool;
beforeAll(async () => {
  await upSingle();
  pool = checkerPool();
}, 300_000);
afterAll(async () => {
  await pool?.end();
});

// 7b: the same with dedupeBatching, where the paused COMMIT is a whole Kafka batch's.
for (const { id, batching } of [{ id: '7', batching: false }, { id: '7b', batching: true }]) {
  const mode = batching ? ' (dedupeBatching)' : '';
  scenario(id, `PostgreSQL paused during the dedupe write${mode}`, { quick: true, timeoutMs: 420_000 }, async () => {
    const pausedMs = sized(20_000, 12_000);
    let paused: number[] = [];
    let pausedAt = 0;
    let resumedAt = 0;
    let held: string | undefined;
    let resumed: Promise<void> | undefined;
    try {
      await runLoadScenario({
        id,
        title: `PostgreSQL paused ${pausedMs / 1000} s during the dedupe write${mode}`,
        pool,
        brokers: single.endpoints.kafkaBrokers,
        perKey: sized(60, 30),
        paceMs: 50,
        member: { handlerTimeoutMs: 5000, pgConnectTimeoutMs: 3000, dedupeBatching: batching },
        fault: async ({ names }) => {
          // Wait for the hook below to pause the database mid-transaction, then let it run again.
          const started = Date.now();
          while (pausedAt === 0 && Date.now() - started < 120_000) await sleep(50);
          if (pausedAt === 0) throw new Error('the handler hook never paused PostgreSQL');
          await resumed;
          return {
            faultAt: pausedAt,
            healAt: resumedAt,
            notes: [`paused ${paused.length} PostgreSQL processes for ${pausedMs / 1000} s right after ${held} wrote its effect, before its COMMIT (${names.run})`],
          };
        },
        hook: (point) => {
          if (pausedAt !== 0 || point.phase !== 'in-transaction' || point.nth !== 60) return Promise.resolve();
          held = `${point.step.key}#${point.step.seq}`;
          paused = withChildren(single.pidOf('postgres')!);
          pausedAt = pause(paused);
          resumed = sleep(pausedMs).then(() => {
            resumedAt = resume(paused);
          });
          // Returns at once: the handler goes on to its COMMIT against a stopped database.
          return Promise.resolve();
        },
      });
    } finally {
      if (paused.length > 0) resume(paused);
    }
  });
}
