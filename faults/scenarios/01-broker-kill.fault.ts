import type { Pool } from 'pg';
import { sized } from '../support/env';
import { bound, kill9, sleep, waitUntil } from '../support/faults';
import { checkerPool, cluster, scenario, single, upSingle } from '../support/harness';
import { partitionsOf } from '../support/kafka';
import { runLoadScenario } from '../support/kit';

// 1. A broker killed with kill -9 mid-produce. One node: everything waits until it is restarted;
// nothing acknowledged may be lost. Three nodes (replication factor 3, min.insync.replicas=2):
// the leader of a partition being written is killed, another in-sync replica takes over without
// a restart, and nothing acknowledged may be lost either.

let pool: Pool;
beforeAll(async () => {
  await upSingle();
  pool = checkerPool();
}, 300_000);
afterAll(async () => {
  await pool?.end();
});

scenario('1a', 'single broker kill -9 mid-produce, restarted', { quick: true, timeoutMs: 420_000 }, async () => {
  try {
    await runLoadScenario({
      id: '1a',
      title: 'Broker kill -9 mid-produce, restarted (1 node)',
      pool,
      brokers: single.endpoints.kafkaBrokers,
      perKey: sized(60, 30),
      fault: async () => {
        const faultAt = await kill9(single.pidOf('kafka')!, 'the Kafka broker');
        await sleep(3000); // sends pile up against a dead broker
        await single.up();
        const healAt = Date.now();
        return { faultAt, healAt, notes: [`broker down ${((healAt - faultAt) / 1000).toFixed(1)} s (kill to healthy again)`] };
      },
    });
  } finally {
    await single.up();
  }
});

scenario('1b', 'partition leader kill -9 mid-produce (3 brokers, RF 3, min ISR 2)', { quick: true, timeoutMs: 480_000 }, async () => {
  await cluster.up();
  try {
    await runLoadScenario({
      id: '1b',
      title: 'Partition leader kill -9 mid-produce (3 nodes, RF 3, min ISR 2)',
      pool,
      brokers: cluster.endpoints.kafkaBrokers,
      topic: { partitions: 3, replicationFactor: 3 },
      perKey: sized(60, 30),
      fault: async ({ brokers, names, load }) => {
        // The leader of the partition the latest acknowledgement went to: one being written.
        const partition = load.acked.at(-1)!.partition;
        const before = (await partitionsOf(brokers, names.topic)).find((p) => p.partition === partition)!;
        const ackedAtKill = load.acked.length;
        const faultAt = await kill9(cluster.pidOf('kafka', before.leader)!, `Kafka node ${before.leader}`);
        // Failover needs no restart: writes to that partition must resume while the node is down.
        await waitUntil('acknowledgements on the partition again', () => load.acked.some((a, i) => i >= ackedAtKill && a.partition === partition), 120_000);
        const recoveryMs = Date.now() - faultAt;
        const after = (await partitionsOf(brokers, names.topic)).find((p) => p.partition === partition)!;
        await Promise.race([load.done, bound(240_000)]);
        await cluster.up(); // the node rejoins and catches up
        return {
          faultAt,
          healAt: Date.now(),
          recoveryMs,
          notes: [
            `killed node ${before.leader}, leader of partition ${partition} (ISR ${before.isr.join(',')}); new leader ${after.leader} (ISR ${after.isr.join(',')}); writes to the partition resumed ${(recoveryMs / 1000).toFixed(1)} s after the kill, without a restart`,
          ],
        };
      },
    });
  } finally {
    await cluster.up();
  }
});
