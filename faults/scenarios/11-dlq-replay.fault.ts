import type { Pool } from 'pg';
import { createReplayer, type ReplayReport } from '@evkit/retry';
import { loadTransport } from '@evkit/transport';
import { assertPassed, check, drain, effectsOf } from '../support/checker';
import { awaitDeadLetters, deadLetterTopicOf } from '../support/dlq';
import { sized, TRANSPORT } from '../support/env';
import { bound, sleep } from '../support/faults';
import { checkerPool, memberSpec, namesFor, scenario, single, stepProducer, upSingle } from '../support/harness';
import { createTopic, highWatermarks } from '../support/kafka';
import { endLoad, keysNamed, startLoad } from '../support/load';
import { memberLogFile, startLocalMember } from '../support/member';
import { fileLogger } from '../support/workload';

// 11. Replaying the dead-letter topic, twice. A key fails until its bug is "fixed"; its events
// are dead-lettered. Then the replay sends them back and they are handled once. The same replay
// run again sends nothing (its progress is committed), and a replay under another selection,
// which does send them again, must cause no new side effect: the dedupe store absorbs them.
// A second group reads the same topic and handles every event: the replays go to the failing
// group's own replay topic, so the other group's handler is never called again (issue #19), and
// the source topic gains no record.

const BROKEN = 'broken';

let pool: Pool;
beforeAll(async () => {
  await upSingle();
  pool = checkerPool();
}, 300_000);
afterAll(async () => {
  await pool?.end();
});

scenario('11', 'DLQ replay run twice: no new side effects', { quick: true, timeoutMs: 420_000 }, async () => {
  const startedAt = Date.now();
  const names = namesFor('11');
  const brokers = single.endpoints.kafkaBrokers;
  await createTopic(brokers, names.topic);
  const keys = [...keysNamed('k', 5), BROKEN];
  const perKey = sized(20, 10);
  const member = await startLocalMember(
    memberSpec(names, 'm1', { routing: { mode: 'non-blocking', maxAttempts: 2, delaysMs: [300] }, failKeys: [BROKEN] }),
  );
  // The other group: its own run, so its effects and deliveries are counted apart.
  const otherRun = `${names.run}-other`;
  const other = await startLocalMember({ ...memberSpec(names, 'other'), run: otherRun, groupId: `${names.groupId}-other` });
  const producer = stepProducer({ brokers, logFile: memberLogFile(names.run, 'producer') });
  const load = startLoad({ run: names.run, topic: names.topic, producer, keys, perKey, paceMs: 20 });
  // The replay tool on the members' client too.
  const transport = loadTransport(TRANSPORT);
  const { logger } = fileLogger(memberLogFile(names.run, 'replayer'));
  const publisher = transport.createPublisher({ brokers }, logger);
  const replayer = createReplayer({ publisher, subscriber: () => transport.createSubscriber({ brokers }, logger) });
  const dlqTopic = deadLetterTopicOf(names.topic, names.groupId);
  const notes: string[] = [];
  const extraFailures: string[] = [];
  try {
    await Promise.race([load.done, bound(180_000)]);
    load.stop();
    const broken = new Set(load.acked.filter((a) => a.key === BROKEN).map((a) => a.uid));
    const truth = { acked: load.acked, attempts: load.attempts(), sendFailures: load.failures.length };
    await drain(pool, names.run, truth, { timeoutMs: 120_000, accounted: () => broken, settleMs: 0 });
    const letters = await awaitDeadLetters(brokers, dlqTopic, broken, 120_000);
    notes.push(`${letters.length} dead letter(s) before the fix`);
    // The other group has handled every event (the broken key's too) before any replay.
    await drain(pool, otherRun, truth, { timeoutMs: 120_000, settleMs: 0 });
    const otherBefore = await countsOf(pool, otherRun);
    const sourceBefore = await highWatermarks(brokers, names.topic);

    member.heal(BROKEN); // the bug is fixed; now replay
    const effectsBefore = (await effectsOf(pool, names.run)).length;
    const first = await replayer.replay(dlqTopic);
    await drain(pool, names.run, truth, { timeoutMs: 120_000 });
    const afterFirst = (await effectsOf(pool, names.run)).length;

    const second = await replayer.replay(dlqTopic); // the same selection: resumes after the first, sends nothing
    const third = await replayer.replay(dlqTopic, { key: BROKEN }); // another selection: sends them all again
    await sleep(5000); // time for the consumer to meet the re-sent records
    const { rows: absorbedRows } = await pool.query<{ n: number }>(
      "SELECT count(DISTINCT uid)::int AS n FROM faults_deliveries WHERE run = $1 AND outcome = 'duplicate' AND key = $2",
      [names.run, BROKEN],
    );
    const afterThird = (await effectsOf(pool, names.run)).length;
    const otherAfter = await countsOf(pool, otherRun);
    const sourceAfter = await highWatermarks(brokers, names.topic);

    const line = (label: string, r: ReplayReport) => `${label}: scanned ${r.scanned}, matched ${r.matched}, replayed ${r.replayed}`;
    notes.push(
      line('replay 1', first),
      line('replay 2 (same selection)', second),
      line(`replay 3 (selection key=${BROKEN})`, third),
      `side effects: ${effectsBefore} before the replays, ${afterFirst} after the first, ${afterThird} after the third; ${absorbedRows[0]!.n} re-sent event(s) absorbed`,
      `the other group: ${otherBefore.effects} side effects and ${otherBefore.deliveries} handler calls before the replays, ${otherAfter.effects} and ${otherAfter.deliveries} after; replays went to ${Object.keys(first.destinations).join(', ')}; source topic end offsets ${sourceBefore} before, ${sourceAfter} after`,
    );
    if (otherAfter.effects !== otherBefore.effects) extraFailures.push(`the other group gained ${otherAfter.effects - otherBefore.effects} side effect(s) from the replays`);
    if (otherAfter.deliveries !== otherBefore.deliveries) extraFailures.push(`the other group's handler was called ${otherAfter.deliveries - otherBefore.deliveries} more time(s) after the replays`);
    if (sourceAfter !== sourceBefore) extraFailures.push(`the replays wrote to the source topic (end offsets ${sourceBefore} → ${sourceAfter})`);
    if (first.replayed !== broken.size) extraFailures.push(`the first replay sent ${first.replayed} of ${broken.size} dead letters`);
    if (afterFirst - effectsBefore !== broken.size) extraFailures.push(`the first replay caused ${afterFirst - effectsBefore} side effect(s), expected ${broken.size}`);
    if (second.replayed !== 0) extraFailures.push(`the same replay run again sent ${second.replayed} record(s)`);
    if (afterThird !== afterFirst) extraFailures.push(`${afterThird - afterFirst} new side effect(s) after replaying again`);
    if (third.replayed > 0 && absorbedRows[0]!.n < third.replayed) extraFailures.push(`only ${absorbedRows[0]!.n} of ${third.replayed} re-sent events met the dedupe store yet`);

    const figures = await check({
      scenario: '11',
      title: 'DLQ replay run twice (and once more under another selection)',
      pool,
      run: names.run,
      truth,
      group: { brokers, groupId: names.groupId, topic: names.topic },
      orderPromised: true,
      orderExemptKeys: new Set([BROKEN]), // through the retry tier, then the replay
      startedAt,
      notes,
      extraFailures,
      extraDeadLettered: letters.length,
    });
    assertPassed(figures);
  } finally {
    await endLoad(load, producer);
    await publisher.disconnect().catch(() => undefined);
    await member.stop();
    await other.stop();
  }
});

/** Side effects and handler calls recorded for `run`. */
async function countsOf(pool: Pool, run: string): Promise<{ effects: number; deliveries: number }> {
  const { rows } = await pool.query<{ effects: number; deliveries: number }>(
    'SELECT (SELECT count(*)::int FROM faults_effects WHERE run = $1) AS effects, (SELECT count(*)::int FROM faults_deliveries WHERE run = $1) AS deliveries',
    [run],
  );
  return rows[0]!;
}
