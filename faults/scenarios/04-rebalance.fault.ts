import type { Pool } from 'pg';
import { assertPassed, check, drain, handledUids } from '../support/checker';
import { sized } from '../support/env';
import { bound, waitUntil } from '../support/faults';
import { checkerPool, memberSpec, namesFor, scenario, single, stepProducer, upSingle } from '../support/harness';
import { createTopic } from '../support/kafka';
import { endLoad, keysNamed, startLoad, summarizeFailures } from '../support/load';
import { memberLogFile, startLocalMember } from '../support/member';
import type { MemberHandle } from '../support/workload';

// 4. A rebalance while handlers are slow: a second member joins a group whose handlers take
// their time (several keys in flight per partition), later it leaves. Eager rebalances revoke
// every partition mid-batch; work in flight must finish or be redone, never be done twice, and
// the keys must stay in order.

let pool: Pool;
beforeAll(async () => {
  await upSingle();
  pool = checkerPool();
}, 300_000);
afterAll(async () => {
  await pool?.end();
});

scenario('4', 'rebalance while handlers are slow (a member joins, then leaves)', { quick: false, timeoutMs: 480_000 }, async () => {
  const startedAt = Date.now();
  const names = namesFor('4');
  const brokers = single.endpoints.kafkaBrokers;
  await createTopic(brokers, names.topic, { partitions: 6 });
  const keys = keysNamed('k', 12);
  const perKey = sized(40, 25);
  const total = keys.length * perKey;
  const spec = (member: string) => memberSpec(names, member, { slowMs: 150, keyConcurrency: 2 });
  const producer = stepProducer({ brokers, logFile: memberLogFile(names.run, 'producer') });
  const load = startLoad({ run: names.run, topic: names.topic, producer, keys, perKey, paceMs: 5 });
  const members: MemberHandle[] = [];
  const notes: string[] = [];
  let joinAt = 0;
  let leaveAt = 0;
  try {
    members.push(await startLocalMember(spec('m1')));
    const handled = async () => (await handledUids(pool, names.run)).size;
    await waitUntil('a quarter handled', async () => (await handled()) >= total / 4, 180_000);
    joinAt = Date.now();
    const second = await startLocalMember(spec('m2'));
    members.push(second);
    notes.push(`m2 joined with ${await handled()} of ${total} handled (join took ${((Date.now() - joinAt) / 1000).toFixed(1)} s)`);
    await waitUntil('two thirds handled', async () => (await handled()) >= (2 * total) / 3, 180_000);
    leaveAt = Date.now();
    await second.stop();
    members.pop();
    notes.push(`m2 left with ${await handled()} handled (leave took ${((Date.now() - leaveAt) / 1000).toFixed(1)} s)`);
    await Promise.race([load.done, bound(180_000)]);
    load.stop();
    const truth = { acked: load.acked, attempts: load.attempts(), sendFailures: load.failures.length };
    const drained = await drain(pool, names.run, truth, { timeoutMs: 180_000 });
    if (!drained) notes.push('did not drain within the window');
    const { rows } = await pool.query<{ member: string; n: number }>(
      "SELECT member, count(*)::int AS n FROM faults_effects WHERE run = $1 GROUP BY member ORDER BY member",
      [names.run],
    );
    notes.push(`effects by member: ${rows.map((r) => `${r.member} ${r.n}`).join(', ')}`, ...summarizeFailures(load.failures));
    const figures = await check({
      scenario: '4',
      title: 'Rebalance while handlers are slow (member joins, then leaves)',
      pool,
      run: names.run,
      truth,
      group: { brokers, groupId: names.groupId, topic: names.topic },
      orderPromised: true,
      faultAt: joinAt,
      healAt: leaveAt,
      startedAt,
      notes,
      extraFailures: rows.some((r) => r.member === 'm2') ? [] : ['m2 handled nothing: the rebalance did not hand it partitions'],
    });
    assertPassed(figures);
  } finally {
    await endLoad(load, producer);
    for (const m of members) await m.stop().catch(() => undefined);
  }
});
