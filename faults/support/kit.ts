import type { Pool } from 'pg';
import { assertPassed, check, drain, type CheckOptions, type Figures } from './checker';
import { bound, waitUntil } from './faults';
import { memberSpec, namesFor, stepProducer, type Names, type ProducerSetup } from './harness';
import { createTopic, readTopic } from './kafka';
import { exposedToUnknownOutcome, keysNamed, startLoad, summarizeFailures, type Ack, type Load } from './load';
import { memberLogFile, startLocalMember } from './member';
import type { HookPoint, MemberSpec } from './workload';

// The shape most scenarios share: a topic, one consumer in this process, a keyed load through
// the evkit producer, a fault injected once a share of the load is acknowledged, then drain and
// check.

export interface FaultOutcome {
  faultAt: number;
  healAt?: number;
  recoveryMs?: number;
  notes?: string[];
}

export interface FaultContext {
  names: Names;
  brokers: string[];
  load: Load;
}

export interface LoadScenario {
  id: string;
  title: string;
  pool: Pool;
  brokers: string[];
  topic?: { partitions?: number; replicationFactor?: number; configs?: Record<string, string> };
  keys?: number;
  perKey: number;
  paceMs?: number;
  /** The producer's request timeout (both clients' default: 30 s). */
  requestTimeout?: number;
  /** The producer's send retries (the transport's default otherwise). */
  retry?: ProducerSetup['retry'];
  /** Where the producer bootstraps from, when not `brokers` (a proxy in front of them). */
  producerBrokers?: string[];
  member?: Partial<MemberSpec>;
  /** Called by the consumer's handler at its hook points (the member runs in this process). */
  hook?: (point: HookPoint) => Promise<void>;
  /** Share of the load acknowledged before the fault (default 1/3). */
  faultAfter?: number;
  fault: (context: FaultContext) => Promise<FaultOutcome>;
  /** Bound on the wait for the whole load after the fault (default 4 minutes). */
  loadTimeoutMs?: number;
  drainTimeoutMs?: number;
  check?: Partial<CheckOptions>;
}

export async function runLoadScenario(scenario: LoadScenario): Promise<Figures> {
  const startedAt = Date.now();
  const names = namesFor(scenario.id);
  const { brokers } = scenario;
  await createTopic(brokers, names.topic, scenario.topic);
  const member = await startLocalMember(memberSpec(names, 'm1', { brokers, ...scenario.member }), scenario.hook);
  const producer = stepProducer({
    brokers: scenario.producerBrokers ?? brokers,
    logFile: memberLogFile(names.run, 'producer'),
    ...(scenario.requestTimeout === undefined ? {} : { requestTimeout: scenario.requestTimeout }),
    ...(scenario.retry === undefined ? {} : { retry: scenario.retry }),
  });
  const keys = keysNamed('k', scenario.keys ?? 8);
  let load: Load | undefined;
  try {
    load = startLoad({ run: names.run, topic: names.topic, producer, keys, perKey: scenario.perKey, paceMs: scenario.paceMs ?? 25 });
    const started = load;
    const total = keys.length * scenario.perKey;
    await waitUntil('the share of the load before the fault acknowledged', () => started.acked.length >= total * (scenario.faultAfter ?? 1 / 3), 120_000);
    const outcome = await scenario.fault({ names, brokers, load });
    await Promise.race([load.done, bound(scenario.loadTimeoutMs ?? 240_000)]);
    load.stop();
    const truth = { acked: load.acked, attempts: load.attempts(), sendFailures: load.failures.length };
    const drained = await drain(scenario.pool, names.run, truth, { timeoutMs: scenario.drainTimeoutMs ?? 90_000 });
    const unknownOutcome = exposedToUnknownOutcome(load.failures);
    const misplaced = await misplacedAcks(brokers, names.topic, load.acked);
    const figures = await check({
      scenario: scenario.id,
      title: scenario.title,
      pool: scenario.pool,
      run: names.run,
      truth,
      group: { brokers, groupId: names.groupId, topic: names.topic },
      orderPromised: true,
      faultAt: outcome.faultAt,
      ...(outcome.healAt === undefined ? {} : { healAt: outcome.healAt }),
      ...(outcome.recoveryMs === undefined ? {} : { recoveryMs: outcome.recoveryMs }),
      startedAt,
      unknownOutcome,
      misplaced: misplaced.count,
      ...scenario.check,
      notes: [
        ...(outcome.notes ?? []),
        ...summarizeFailures(load.failures),
        `${unknownOutcome.sends} send(s) with an unknown outcome, exposing ${unknownOutcome.events} event(s)`,
        ...misplaced.examples,
        ...(load.abandoned.length > 0 ? [`${load.abandoned.length} event(s) abandoned by the load after every retry`] : []),
        ...(drained ? [] : ['did not drain within the window']),
        ...(scenario.check?.notes ?? []),
      ],
    });
    assertPassed(figures);
    return figures;
  } finally {
    load?.stop();
    await load?.done.catch(() => undefined);
    await producer.close().catch(() => undefined);
    await member.stop().catch(() => undefined);
  }
}

/**
 * Acknowledged events not found at the partition and offset their publish resolved with: read
 * back from the topic itself (by each record's `ce_id`), the promise a resolved publish makes.
 */
async function misplacedAcks(brokers: string[], topic: string, acked: readonly Ack[]): Promise<{ count: number; examples: string[] }> {
  const idAt = new Map((await readTopic(brokers, topic)).map((r) => [`${r.partition}@${r.offset}`, r.headers.ce_id]));
  const misplaced = acked.filter((a) => idAt.get(`${a.partition}@${a.offset}`) !== a.uid);
  return {
    count: misplaced.length,
    examples: misplaced.slice(0, 5).map((a) => `${a.key}#${a.seq} (${a.uid}) acknowledged at ${a.partition}@${a.offset}, which holds ${idAt.get(`${a.partition}@${a.offset}`) ?? 'nothing'}`),
  };
}
