import type { Pool } from 'pg';
import { assertPassed, check, drain } from '../support/checker';
import { sized } from '../support/env';
import { bound, kill9 } from '../support/faults';
import { checkerPool, memberSpec, namesFor, scenario, single, stepProducer, upSingle } from '../support/harness';
import { createTopic } from '../support/kafka';
import { endLoad, keysNamed, startLoad, summarizeFailures } from '../support/load';
import { memberLogFile, startChildMember, type ChildMember } from '../support/member';

// 3. A consumer killed with kill -9 after its handler's transaction committed but before the
// offset was committed. The member runs in a process of its own; at the nth event a hook after
// the dedupe transaction tells the test and hangs, so the offset commit never comes, and the
// test kills the process by its pid. A replacement starts at once. The event must be delivered
// again (at least once) and its side effect must not happen again (the dedupe store absorbs it).

const SESSION_TIMEOUT_MS = 10_000;

let pool: Pool;
beforeAll(async () => {
  await upSingle();
  pool = checkerPool();
}, 300_000);
afterAll(async () => {
  await pool?.end();
});

// 3b: the same with dedupeBatching, the member killed after its batch's COMMIT.
// 3c: as 3, every member started under one groupInstanceId (static membership, as a StatefulSet's
// pod restarted under its name): the replacement takes the dead member's partitions at once,
// without waiting out its session (F4). @platformatic/kafka only: KafkaJS has no static membership.
const variants = [
  { id: '3', batching: false, staticMember: false },
  { id: '3b', batching: true, staticMember: false },
  { id: '3c', batching: false, staticMember: true },
];
for (const { id, batching, staticMember } of variants) {
  const mode = batching ? ' (dedupeBatching)' : staticMember ? ' (static membership)' : '';
  const transports = staticMember ? (['platformatic'] as const) : undefined;
  scenario(id, `consumer kill -9 after the handler committed, before the offset commit${mode}`, { quick: true, timeoutMs: 480_000, ...(transports && { transports }) }, async () => {
    const startedAt = Date.now();
    const names = namesFor(id);
    const brokers = single.endpoints.kafkaBrokers;
    await createTopic(brokers, names.topic);
    const keys = keysNamed('k', 8);
    const perKey = sized(60, 30);
    const kills = sized(2, 1);
    const producer = stepProducer({ brokers, logFile: memberLogFile(names.run, 'producer') });
    const load = startLoad({ run: names.run, topic: names.topic, producer, keys, perKey, paceMs: 100 });
    const spec = (member: string) =>
      memberSpec(names, member, { sessionTimeout: SESSION_TIMEOUT_MS, heartbeatInterval: 1000, dedupeBatching: batching, ...(staticMember && { groupInstanceId: 'pod-0' }) });
    const notes: string[] = [];
    const extraFailures: string[] = [];
    const killedAt: string[] = [];
    let member: ChildMember | undefined;
    let firstKill = 0;
    let lastKill = 0;
    try {
      for (let i = 1; i <= kills; i += 1) {
        // Each member hangs after committing the transaction of its nth new event, mid-stream.
        const nth = Math.floor((keys.length * perKey) / (kills + 2));
        member = await startChildMember(spec(`m${i}`), [{ phase: 'after-commit', nth, action: 'hang' }]);
        const point = await member.nextHook(180_000);
        lastKill = await kill9(member.pid, `consumer ${member.member}`);
        firstKill ||= lastKill;
        killedAt.push(point.step.uid);
        notes.push(`${member.member} (pid ${member.pid}) killed after committing ${point.step.key}#${point.step.seq}, its offset uncommitted`);
      }
      member = await startChildMember(spec(`m${kills + 1}`));
      await Promise.race([load.done, bound(240_000)]);
      load.stop();
      const truth = { acked: load.acked, attempts: load.attempts(), sendFailures: load.failures.length };
      const drained = await drain(pool, names.run, truth, { timeoutMs: 120_000 });
      if (!drained) notes.push('did not drain within the window');
      // The events whose offsets the kills left uncommitted came again and were absorbed.
      const { rows } = await pool.query<{ uid: string }>(
        "SELECT DISTINCT uid FROM faults_deliveries WHERE run = $1 AND outcome = 'duplicate' AND uid = ANY($2)",
        [names.run, killedAt],
      );
      if (rows.length !== killedAt.length) {
        extraFailures.push(`${killedAt.length - rows.length} of the ${killedAt.length} event(s) committed before a kill were not redelivered and absorbed`);
      }
      notes.push(...summarizeFailures(load.failures));
      const figures = await check({
        scenario: id,
        title: `Consumer kill -9 between handler commit and offset commit (${kills}×)${mode}`,
        pool,
        run: names.run,
        truth,
        group: { brokers, groupId: names.groupId, topic: names.topic },
        orderPromised: true,
        faultAt: firstKill,
        healAt: lastKill, // the replacement is started at once, as an orchestrator would
        startedAt,
        notes: [
          ...notes,
          staticMember
            ? `session timeout ${SESSION_TIMEOUT_MS / 1000} s; every member started as group instance pod-0: the replacement takes the dead one's partitions without waiting for its session`
            : `session timeout ${SESSION_TIMEOUT_MS / 1000} s: the group waits that long for the dead member before rebalancing`,
        ],
        extraFailures,
      });
      assertPassed(figures);
    } finally {
      await endLoad(load, producer);
      await member?.stop();
    }
  });
}
