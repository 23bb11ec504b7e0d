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

// 12. A handler hung on an external call, for one key, while the other keys keep flowing. With
// `handlerTimeoutMs` each hung attempt is a failed attempt: non-blocking routing retries it
// twice, then dead-letters it exactly once; the hung attempt's dedupe transaction is abandoned,
// so the late handler's write of its effect never commits. The other keys, on the hung key's
// partition too, are not held up beyond the timeout.
//   12a: the call ignores its signal and returns late (3× the timeout), then writes its effect.
//   12b: the call honours its signal (rejects when it aborts).
//   12c: as 12a, with dedupeBatching (the hung record shares its partition batch's transaction).

const HUNG = 'hung';
const PARTITIONS = 3;
const MAX_ATTEMPTS = 3;
const TIMEOUT_MS = 1000;
const TIMEOUT_CODE = 'EVKIT_CONSUMER_HANDLER_TIMEOUT';

let pool: Pool;
beforeAll(async () => {
  await upSingle();
  pool = checkerPool();
}, 300_000);
afterAll(async () => {
  await pool?.end();
});

// Quick: 12a only, until a run has measured the three (each should take well under 90 s).
const variants: { id: string; label: string; hang: NonNullable<MemberSpec['hang']>['signal']; batching: boolean }[] = [
  { id: '12a', label: 'ignores its signal, returns late', hang: 'ignore', batching: false },
  { id: '12b', label: 'honours its signal', hang: 'honour', batching: false },
  { id: '12c', label: 'ignores its signal, returns late (dedupeBatching)', hang: 'ignore', batching: true },
];
for (const variant of variants) {
  scenario(variant.id, `a handler hung on an external call (${variant.label}): timed out, dead-lettered once, other keys flow`, { quick: true, timeoutMs: 300_000 }, () =>
    runHungHandler(variant),
  );
}

async function runHungHandler({ id, label, hang, batching }: (typeof variants)[number]): Promise<void> {
  const startedAt = Date.now();
  const names = namesFor(id);
  const brokers = single.endpoints.kafkaBrokers;
  await createTopic(brokers, names.topic, { partitions: PARTITIONS });
  const others = keysBeside(HUNG, PARTITIONS);
  const member = await startLocalMember(
    memberSpec(names, 'm1', {
      routing: { mode: 'non-blocking', maxAttempts: MAX_ATTEMPTS, delaysMs: [500, 1000] },
      hang: { keys: [HUNG], signal: hang, lateMs: 3 * TIMEOUT_MS },
      handlerTimeoutMs: TIMEOUT_MS,
      // Per record, the other keys of the hung key's partition run beside it; a batch's
      // transaction runs one record at a time.
      keyConcurrency: batching ? 1 : 4,
      dedupeBatching: batching,
    }),
  );
  const producer = stepProducer({ brokers, logFile: memberLogFile(names.run, 'producer') });
  // The hung key sends a few events, spread out; the others a steady stream over the same time.
  const hungLoad = startLoad({ run: names.run, topic: names.topic, producer, keys: [HUNG], perKey: sized(8, 5), paceMs: 1500 });
  const load = startLoad({ run: names.run, topic: names.topic, producer, keys: others, perKey: sized(80, 50), paceMs: 150 });
  const notes: string[] = [];
  const extraFailures: string[] = [];
  try {
    await Promise.race([Promise.all([load.done, hungLoad.done]), bound(120_000)]);
    load.stop();
    hungLoad.stop();
    const hung = new Set(hungLoad.acked.map((a) => a.uid));
    const acked = [...load.acked, ...hungLoad.acked];
    const failures = [...load.failures, ...hungLoad.failures];
    const truth = { acked, attempts: load.attempts() + hungLoad.attempts(), sendFailures: failures.length };
    const drained = await drain(pool, names.run, truth, { timeoutMs: 120_000, accounted: () => hung, settleMs: 0 });
    if (!drained) notes.push('the other keys did not drain within the window');
    const letters = await awaitDeadLetters(brokers, deadLetterTopicOf(names.topic, names.groupId), hung, 120_000);
    // The late handlers return 3 s after their timeout and try to write: give them time to show.
    await new Promise((resolve) => setTimeout(resolve, 4 * TIMEOUT_MS));
    const deadLettered = new Set(letters.map((l) => l.uid).filter((uid): uid is string => uid !== undefined && hung.has(uid)));

    extraFailures.push(...deadLetterFailures(letters, hung, MAX_ATTEMPTS));
    const badCodes = letters.filter((l) => l.uid && hung.has(l.uid) && l.code !== TIMEOUT_CODE);
    if (badCodes.length > 0) extraFailures.push(`${badCodes.length} dead letter(s) with code ${badCodes[0]!.code ?? 'none'}, not ${TIMEOUT_CODE}`);
    // The late handler wrote its effect on the abandoned transaction: it must not have committed.
    const { rows: hungEffects } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM faults_effects WHERE run = $1 AND key = $2', [names.run, HUNG]);
    if (hungEffects[0]!.n > 0) extraFailures.push(`${hungEffects[0]!.n} side effect(s) of the hung key committed late`);
    const { rows: timeouts } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM faults_deliveries WHERE run = $1 AND key = $2 AND outcome = 'failed' AND code = $3", [
      names.run,
      HUNG,
      TIMEOUT_CODE,
    ]);

    // How long the other keys waited, acknowledgement to side effect: on the hung key's
    // partition, and on the others.
    const { same, elsewhere } = await otherKeysLatency(pool, names.run, HUNG, acked, partitionForKey(HUNG, PARTITIONS));
    const maxLatency = Math.max(same.at(-1) ?? 0, elsewhere.at(-1) ?? 0);
    notes.push(
      `${hung.size} event(s) of key ${HUNG} hung (${label}), ${timeouts[0]!.n} attempt(s) timed out after ${TIMEOUT_MS} ms, ${deadLettered.size} dead-lettered after ${MAX_ATTEMPTS} attempts`,
      `other keys, acknowledgement to side effect: on the hung key's partition ${describeLatencies(same)}; on the other partitions ${describeLatencies(elsewhere)}`,
      ...summarizeFailures(failures),
    );
    // A hung attempt holds its record for the timeout; the other keys wait at most a few of them
    // (a fetch is handled whole, retry tiers included, on both clients), never the hang itself.
    const maxOtherLatencyMs = 5000;
    if (maxLatency > maxOtherLatencyMs) extraFailures.push(`the other keys were held up: max latency ${maxLatency} ms > ${maxOtherLatencyMs} ms`);
    const figures = await check({
      scenario: id,
      title: `Handler hung on an external call (${label}): timed out ×${MAX_ATTEMPTS}, dead-lettered once`,
      pool,
      run: names.run,
      truth,
      group: { brokers, groupId: names.groupId, topic: names.topic },
      deadLettered,
      orderPromised: true,
      // The hung key went through the retry tier, which gives up its order.
      orderExemptKeys: new Set([HUNG]),
      startedAt,
      notes,
      extraFailures,
    });
    assertPassed(figures);
  } finally {
    await endLoad(hungLoad, { close: () => Promise.resolve() });
    await endLoad(load, producer);
    await member.stop();
  }
}
