import type { Pool } from 'pg';
import { partitionForKey } from '@evkit/transport';
import { assertPassed, check, drain } from '../support/checker';
import { awaitDeadLetters, deadLetterTopicOf } from '../support/dlq';
import { sized } from '../support/env';
import { bound } from '../support/faults';
import { checkerPool, memberSpec, namesFor, scenario, single, stepProducer, upSingle } from '../support/harness';
import { createTopic } from '../support/kafka';
import { deadLetterFailures, describeLatencies, otherKeysLatency } from '../support/latency';
import { endLoad, keysBeside, startLoad, summarizeFailures } from '../support/load';
import { memberLogFile, startLocalMember } from '../support/member';
import type { MemberSpec } from '../support/workload';

// 10. One key whose events always fail. Each is retried, then dead-lettered with its attempts
// and reason; it never has a side effect; the other keys are not held up. Non-blocking (retry
// topics): the other keys' latency stays low, and the failing key gives up its order (it went
// through a retry tier). Blocking (retried in place): order holds for every key; the other keys
// of the failing key's partition wait for its retries.

const POISON = 'poison';
const PARTITIONS = 3;
const MAX_ATTEMPTS = 3;

let pool: Pool;
beforeAll(async () => {
  await upSingle();
  pool = checkerPool();
}, 300_000);
afterAll(async () => {
  await pool?.end();
});

scenario('10a', 'one key always fails: retried, dead-lettered, other keys unaffected (non-blocking)', { quick: true, timeoutMs: 420_000 }, () =>
  runPoisonKey('10a', 'non-blocking', { mode: 'non-blocking', maxAttempts: MAX_ATTEMPTS, delaysMs: [500, 1000] }, 5000),
);

scenario('10b', 'one key always fails: retried in place, dead-lettered, order kept (blocking)', { quick: false, timeoutMs: 420_000 }, () =>
  runPoisonKey('10b', 'blocking', { mode: 'blocking', maxAttempts: MAX_ATTEMPTS, delaysMs: [200, 400] }, undefined),
);

async function runPoisonKey(id: string, label: string, routing: NonNullable<MemberSpec['routing']>, maxOtherLatencyMs: number | undefined): Promise<void> {
  const startedAt = Date.now();
  const names = namesFor(id);
  const brokers = single.endpoints.kafkaBrokers;
  await createTopic(brokers, names.topic, { partitions: PARTITIONS });
  const keys = [...keysBeside(POISON, PARTITIONS), POISON];
  const perKey = sized(30, 15);
  const member = await startLocalMember(memberSpec(names, 'm1', { routing, failKeys: [POISON] }));
  const producer = stepProducer({ brokers, logFile: memberLogFile(names.run, 'producer') });
  const load = startLoad({ run: names.run, topic: names.topic, producer, keys, perKey, paceMs: 50 });
  const notes: string[] = [];
  const extraFailures: string[] = [];
  try {
    await Promise.race([load.done, bound(180_000)]);
    load.stop();
    const poisoned = new Set(load.acked.filter((a) => a.key === POISON).map((a) => a.uid));
    const truth = { acked: load.acked, attempts: load.attempts(), sendFailures: load.failures.length };
    const drained = await drain(pool, names.run, truth, { timeoutMs: 120_000, accounted: () => poisoned, settleMs: 0 });
    const letters = await awaitDeadLetters(brokers, deadLetterTopicOf(names.topic, names.groupId), poisoned, 120_000);
    const deadLettered = new Set(letters.map((l) => l.uid).filter((uid): uid is string => uid !== undefined && poisoned.has(uid)));
    if (!drained) notes.push('the other keys did not drain within the window');
    extraFailures.push(...deadLetterFailures(letters, poisoned, MAX_ATTEMPTS));
    const { rows: poisonEffects } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM faults_effects WHERE run = $1 AND key = $2', [names.run, POISON]);
    if (poisonEffects[0]!.n > 0) extraFailures.push(`${poisonEffects[0]!.n} side effect(s) of the always-failing key`);

    // How long the other keys waited, acknowledgement to side effect: on the failing key's
    // partition, and on the others.
    const { same, elsewhere: others } = await otherKeysLatency(pool, names.run, POISON, load.acked, partitionForKey(POISON, PARTITIONS));
    const latencies = [...same, ...others].sort((a, b) => a - b);
    notes.push(
      `${poisoned.size} event(s) of key ${POISON} dead-lettered after ${MAX_ATTEMPTS} attempts (${letters[0]?.code ?? 'plain Error'}: ${letters[0]?.reason?.slice(0, 80) ?? ''})`,
      `other keys, acknowledgement to side effect: on the failing key's partition ${describeLatencies(same)}; on the other partitions ${describeLatencies(others)}`,
      ...summarizeFailures(load.failures),
    );
    if (maxOtherLatencyMs !== undefined && (latencies.at(-1) ?? 0) > maxOtherLatencyMs) {
      extraFailures.push(`the other keys were held up: max latency ${latencies.at(-1)} ms > ${maxOtherLatencyMs} ms`);
    }
    const figures = await check({
      scenario: id,
      title: `One key always fails (${label}): retried ×${MAX_ATTEMPTS - 1}, dead-lettered`,
      pool,
      run: names.run,
      truth,
      group: { brokers, groupId: names.groupId, topic: names.topic },
      deadLettered,
      orderPromised: true,
      // Non-blocking: the failing key went through the retry tier, which gives up its order.
      ...(routing.mode === 'non-blocking' ? { orderExemptKeys: new Set([POISON]) } : {}),
      startedAt,
      notes,
      extraFailures,
    });
    assertPassed(figures);
  } finally {
    await endLoad(load, producer);
    await member.stop();
  }
}
