import * as fs from 'node:fs';
import type { Pool } from 'pg';
import { isEvkitError } from '@evkit/errors';
import { assertPassed, check, drain } from '../support/checker';
import { sized } from '../support/env';
import { bound, pause, resume, sleep, waitUntil } from '../support/faults';
import { checkerPool, memberSpec, namesFor, scenario, single, stepProducer, upSingle } from '../support/harness';
import { createTopic, readTopic } from '../support/kafka';
import { endLoad, keysNamed, startLoad, summarizeFailures } from '../support/load';
import { memberLogFile, startLocalMember } from '../support/member';
import { STEP_TYPE, type MemberHandle } from '../support/workload';

// 8. The schema registry down (its process paused: requests hang until the codec's timeout).
// A producer that already knows its schema (warm cache) keeps publishing; a consumer that already
// read the writer schema keeps consuming. A producer that does not (cold cache) fails closed:
// a clear, retriable RegistryUnavailableError and nothing sent. A consumer group started during
// the outage cannot decode: it must stall and retry, not dead-letter everything, and catch up
// once the registry is back.
//
// Down means paused, not killed: the stack's Apicurio keeps schemas in memory, so a restart
// would forget every id and turn a registry outage into unknown schema ids.

let pool: Pool;
beforeAll(async () => {
  await upSingle();
  pool = checkerPool();
}, 300_000);
afterAll(async () => {
  await pool?.end();
});

scenario('8', 'registry down: warm caches keep working, cold producer fails closed, cold consumer stalls', { quick: true, timeoutMs: 480_000 }, async () => {
  const startedAt = Date.now();
  const names = namesFor('8');
  const cold = { ...names, run: `${names.run}-cold`, groupId: `${names.groupId}-cold` };
  const brokers = single.endpoints.kafkaBrokers;
  await createTopic(brokers, names.topic);
  const coldTopic = `${names.topic}.cold`;
  await createTopic(brokers, coldTopic);
  const pausedMs = sized(25_000, 15_000);
  const keys = keysNamed('k', 8);
  const perKey = sized(60, 30);
  const producer = stepProducer({ brokers, logFile: memberLogFile(names.run, 'producer') });
  const load = startLoad({ run: names.run, topic: names.topic, producer, keys, perKey, paceMs: 120 });
  const members: MemberHandle[] = [];
  const registryPid = single.pidOf('registry')!;
  const notes: string[] = [];
  const warmFailures: string[] = [];
  const coldFailures: string[] = [];
  let pausedAt = 0;
  let resumedAt = 0;
  try {
    members.push(await startLocalMember(memberSpec(names, 'warm')));
    await waitUntil('the warm consumer handled some events', async () => (await pool.query('SELECT 1 FROM faults_effects WHERE run = $1 LIMIT 1', [names.run])).rowCount === 1, 60_000);

    pausedAt = pause([registryPid]);
    const ackedAtPause = load.acked.length;
    // A cold producer: a codec that has never seen the schema.
    const coldProducer = stepProducer({ brokers, logFile: memberLogFile(names.run, 'cold-producer') });
    const attempt = Date.now();
    const outcome = await coldProducer
      .publish(coldTopic, { type: STEP_TYPE, key: 'cold', data: { run: names.run, key: 'cold', seq: 0, uid: 'cold-0' } })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    const failedAfter = Date.now() - attempt;
    await coldProducer.close().catch(() => undefined);
    if (outcome === undefined) warmFailures.push('the cold producer published while the registry was down');
    else if (!isEvkitError(outcome) || outcome.code !== 'EVKIT_CODEC_REGISTRY_UNAVAILABLE' || !outcome.retriable) {
      warmFailures.push(`the cold producer failed with ${isEvkitError(outcome) ? outcome.code : outcome instanceof Error ? outcome.message : 'a non-error'}, not a retriable EVKIT_CODEC_REGISTRY_UNAVAILABLE`);
    }
    notes.push(
      `cold producer failed closed after ${(failedAfter / 1000).toFixed(1)} s: ${isEvkitError(outcome) ? `${outcome.code} (retriable ${String(outcome.retriable)}): ${outcome.message.slice(0, 160)}` : outcome instanceof Error ? outcome.message : 'no error'}`,
    );

    // A consumer group that starts during the outage has no writer schema cached.
    members.push(await startLocalMember(memberSpec(cold, 'cold', { routing: { mode: 'blocking', maxAttempts: 3, delaysMs: [200] } })));
    await sleep(Math.max(0, pausedMs - (Date.now() - pausedAt)));
    const ackedDuringPause = load.acked.length - ackedAtPause;
    const { rows: during } = await pool.query<{ run: string; n: number }>(
      'SELECT run, count(*)::int AS n FROM faults_effects WHERE run = ANY($1) AND applied_ms BETWEEN $2 AND $3 GROUP BY run',
      [[names.run, cold.run], pausedAt, Date.now()],
    );
    resumedAt = resume([registryPid]);
    const warmDuring = during.find((r) => r.run === names.run)?.n ?? 0;
    const coldDuring = during.find((r) => r.run === cold.run)?.n ?? 0;
    notes.push(`while the registry was down (${(pausedMs / 1000).toFixed(0)} s): ${ackedDuringPause} events acknowledged by the warm producer, ${warmDuring} handled by the warm consumer, ${coldDuring} by the cold one`);
    if (ackedDuringPause === 0) warmFailures.push('the warm producer published nothing while the registry was down');
    if (warmDuring === 0) warmFailures.push('the warm consumer handled nothing while the registry was down');

    await Promise.race([load.done, bound(240_000)]);
    load.stop();
    const truth = { acked: load.acked, attempts: load.attempts(), sendFailures: load.failures.length };
    const drainedWarm = await drain(pool, names.run, truth, { timeoutMs: 120_000, settleMs: 0 });
    const drainedCold = await drain(pool, cold.run, truth, { timeoutMs: 120_000 });
    const coldTopicRecords = await readTopic(brokers, coldTopic);
    if (coldTopicRecords.length > 0) warmFailures.push(`${coldTopicRecords.length} record(s) reached ${coldTopic} although the cold producer failed`);
    const dlq = await readTopic(brokers, `${names.topic}.${cold.groupId}.dlq`).catch(() => []);
    // The cold member's log says how it waited: failed decodes, retried in place.
    const coldLog = fs.readFileSync(memberLogFile(cold.run, 'cold'), 'utf8');
    const stalls = coldLog.split('\n').filter((line) => line.includes('partition will redeliver') && line.includes('EVKIT_CODEC_REGISTRY_UNAVAILABLE')).length;
    const coldStall =
      stalls > 0
        ? `${stalls} failed decode(s) on EVKIT_CODEC_REGISTRY_UNAVAILABLE, each retried in place`
        : 'no failed decode logged: each decode of an unknown schema id hung until the registry answered again (the schema fetch by id has no timeout)';
    if (dlq.length > 0) coldFailures.push(`${dlq.length} record(s) dead-lettered by the cold consumer during the outage`);
    const figuresWarm = await check({
      scenario: '8a',
      title: `Registry down ${pausedMs / 1000} s: warm producer and consumer, cold producer`,
      pool,
      run: names.run,
      truth,
      group: { brokers, groupId: names.groupId, topic: names.topic },
      orderPromised: true,
      faultAt: pausedAt,
      healAt: resumedAt,
      startedAt,
      notes: [...notes, ...summarizeFailures(load.failures), ...(drainedWarm ? [] : ['did not drain within the window'])],
      extraFailures: warmFailures,
    });
    const figuresCold = await check({
      scenario: '8b',
      title: `Registry down ${pausedMs / 1000} s: consumer group started cold`,
      pool,
      run: cold.run,
      truth,
      group: { brokers, groupId: cold.groupId, topic: names.topic },
      orderPromised: true,
      faultAt: pausedAt,
      healAt: resumedAt,
      startedAt,
      notes: [`handled ${coldDuring} while the registry was down, dead-lettered ${dlq.length}; ${coldStall}`, ...(drainedCold ? [] : ['did not drain within the window'])],
      extraFailures: coldFailures,
    });
    assertPassed(figuresWarm);
    assertPassed(figuresCold);
  } finally {
    resume([registryPid]);
    await endLoad(load, producer);
    for (const m of members) await m.stop().catch(() => undefined);
  }
});
