import type { Pool } from 'pg';
import { sized } from '../support/env';
import { pause, resume, sleep, waitUntil } from '../support/faults';
import { checkerPool, cluster, scenario, titled, single, upSingle } from '../support/harness';
import { partitionsOf } from '../support/kafka';
import { runLoadScenario } from '../support/kit';

// 2. A broker paused (SIGSTOP) past the producer's request timeout, then resumed (SIGCONT).
// Requests time out while the broker may still write them once it runs again: the idempotent
// producer's retries must not duplicate or reorder, and nothing acknowledged may be lost.
// On three nodes the paused leader is also fenced (broker session timeout 9 s) and replaced
// while it sleeps; when it wakes it must not acknowledge anything as the old leader.

const REQUEST_TIMEOUT_MS = 5000;

let pool: Pool;
beforeAll(async () => {
  await upSingle();
  pool = checkerPool();
}, 300_000);
afterAll(async () => {
  await pool?.end();
});

// Repeated like the broker kills (01-broker-kill): a paused broker's timed-out requests are sends
// of unknown outcome, where B1 lost events.
scenario('2a', 'single broker SIGSTOP past the request timeout, SIGCONT', { quick: true, timeoutMs: 420_000, repeat: { full: 10, quick: 3 } }, async (repetition) => {
  const pid = single.pidOf('kafka')!;
  const pausedMs = sized(15_000, 12_000);
  try {
    await runLoadScenario({
      id: '2a',
      title: titled(`Broker paused ${pausedMs / 1000} s (request timeout ${REQUEST_TIMEOUT_MS / 1000} s), resumed (1 node)`, repetition),
      pool,
      brokers: single.endpoints.kafkaBrokers,
      requestTimeout: REQUEST_TIMEOUT_MS,
      perKey: sized(60, 30),
      fault: async () => {
        const faultAt = pause([pid]);
        await sleep(pausedMs);
        const healAt = resume([pid]);
        return { faultAt, healAt, notes: [`broker paused ${(pausedMs / 1000).toFixed(0)} s`] };
      },
    });
  } finally {
    resume([pid]);
  }
});

scenario('2b', 'partition leader SIGSTOP past request and session timeouts (3 brokers)', { quick: false, timeoutMs: 480_000 }, async () => {
  await cluster.up();
  let paused: number | undefined;
  const pausedMs = sized(20_000, 15_000);
  try {
    await runLoadScenario({
      id: '2b',
      title: `Partition leader paused ${pausedMs / 1000} s, resumed (3 nodes)`,
      pool,
      brokers: cluster.endpoints.kafkaBrokers,
      topic: { partitions: 3, replicationFactor: 3 },
      requestTimeout: REQUEST_TIMEOUT_MS,
      perKey: sized(60, 30),
      fault: async ({ brokers, names, load }) => {
        const partition = load.acked.at(-1)!.partition;
        const before = (await partitionsOf(brokers, names.topic)).find((p) => p.partition === partition)!;
        paused = cluster.pidOf('kafka', before.leader)!;
        const ackedAtPause = load.acked.length;
        const writtenAgain = () => load.acked.some((a, i) => i >= ackedAtPause && a.partition === partition);
        const faultAt = pause([paused]);
        // Paused for pausedMs whatever happens; meanwhile, does the load fail over to the new leader?
        const failedOver = await waitUntil('writes during the pause', writtenAgain, pausedMs).then(
          () => Date.now() - faultAt,
          () => undefined,
        );
        const elapsed = Date.now() - faultAt;
        if (elapsed < pausedMs) await sleep(pausedMs - elapsed);
        const during = (await partitionsOf(brokers, names.topic)).find((p) => p.partition === partition)!;
        const healAt = resume([paused]);
        await waitUntil('writes to the partition after the resume', writtenAgain, 120_000).catch(() => undefined);
        const recoveryMs = failedOver ?? Date.now() - faultAt;
        await waitUntil('the paused node back in the ISR', async () => (await partitionsOf(brokers, names.topic)).every((p) => p.isr.length === 3), 120_000).catch(() => undefined);
        return {
          faultAt,
          healAt,
          recoveryMs,
          notes: [
            `paused node ${before.leader}, leader of partition ${partition}, for ${(pausedMs / 1000).toFixed(0)} s; leader while paused: ${during.leader} (ISR ${during.isr.join(',')})`,
            failedOver === undefined
              ? `the producer did not fail over while the old leader was paused: writes to the partition resumed ${(recoveryMs / 1000).toFixed(1)} s after the pause, once it answered again`
              : `the producer failed over: writes to the partition resumed ${(failedOver / 1000).toFixed(1)} s after the pause`,
          ],
        };
      },
    });
  } finally {
    if (paused !== undefined) resume([paused]);
    await cluster.up();
  }
});
