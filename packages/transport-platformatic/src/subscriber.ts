// Over 300 lines for a reason: the subscriber is one closure over the group's state (assignment,
// generation, positions, pauses, seeks, back-off) that the group callbacks, the fetch loop and
// the batch handlers all read and write.
import { Admin, ConnectionPool, Consumer, offsetCommitV8, type ClusterMetadata, type GroupAssignment } from '@platformatic/kafka';
import {
  BatchHandlerError,
  connectOnce,
  ConsumerCrashError,
  resolveSubscriberTuning,
  TransportCommitError,
  TransportConfigError,
  TransportConnectError,
  TransportStateError,
  validateSubscribeOptions,
  type PartitionBatch,
  type SubscribeOptions,
  type SubscriberErrorListener,
  type SubscriberTransport,
  type SubscriberTuningOptions,
} from '@evkit/transport';
import { baseOptions, isRetriable, messageOf, platformaticErrors, protocolErrorIds, type PlatformaticClientOptions } from './client';
import { OFFSET_OUT_OF_RANGE, readFetchResponse, responseOf, type FetchedPartition } from './fetch';
import { readOffsets } from './offsets';
import { ensureTopics } from './topics';

/**
 * The shared subscriber tuning (`SubscriberTuningOptions`, with its defaults), and what this
 * transport does its own way.
 */
export interface PlatformaticSubscriberOptions extends PlatformaticClientOptions, SubscriberTuningOptions {
  /** How long the broker waits for members to rejoin a rebalance, and a rejoin for batches in flight (ms). Default 60000. */
  rebalanceTimeout?: number;
  /** Handler failures and crashes. Default: written to stderr. */
  onError?: SubscriberErrorListener;
}

// Commits refused because the group moved to a new generation: the partition may belong to
// another member now, so the commit did not and must not count.
const GENERATION_ERRORS = new Set(['ILLEGAL_GENERATION', 'REBALANCE_IN_PROGRESS', 'UNKNOWN_MEMBER_ID', 'FENCED_INSTANCE_ID']);
/** Consecutive failed fetches after which the subscriber reports them (it keeps trying). */
const FETCH_FAILURES_REPORTED = 10;

const keyOf = (topic: string, partition: number) => `${partition}:${topic}`;

interface PartitionState {
  topic: string;
  partition: number;
  /**
   * Next offset to fetch; undefined until the committed offset is read after a join. It runs
   * ahead of the batch being handled by at most one batch (`waiting`): the next batch is fetched
   * while this one is handled, as the client's own stream does.
   */
  position: bigint | undefined;
  /** Bumped by every seek and failed batch: a batch or fetch of an older one is outdated. */
  seeks: number;
  busy: boolean;
  /** Fetched but not handed out yet (its partition busy, or every slot taken), oldest `order` first. */
  waiting: { fetched: FetchedPartition; generation: number; order: number } | undefined;
}

export function createPlatformaticSubscriber(options: PlatformaticSubscriberOptions): SubscriberTransport {
  const base = baseOptions(options, 'subscriber');
  const settings = resolveSubscriberTuning(options);
  const { redeliveryDelayMs } = settings;
  if (options.onError !== undefined && typeof options.onError !== 'function') throw new TransportConfigError('onError must be a function');
  const report: SubscriberErrorListener = options.onError ?? ((error) => process.stderr.write(`evkit subscriber: ${error.code}: ${error.message}\n`));

  const admin = new Admin(baseOptions(options, 'admin'));
  const adminConnection = connectOnce(() => admin.listApis(), 'subscriber', platformaticErrors);
  let consumer: Consumer | undefined;
  /**
   * Connections of their own for fetches, as the client's own stream has: a broker answers a
   * connection's requests one at a time, so commits and heartbeats would otherwise queue behind
   * fetches, and the fetch of a partition's next batch behind its commit.
   */
  let fetchConnections: ConnectionPool | undefined;
  let run: SubscribeOptions | undefined;
  /** Partitions of the current generation, from the last join; empty while rejoining. */
  let assignment = new Map<string, PartitionState>();
  /** Bumped whenever what was handed out may have been revoked: batches of older generations are inactive. */
  let generation = 0;
  /** A rebalance began: fetch nothing until the next join. */
  let revoking = false;
  let stopping = false;
  const paused = new Set<string>();
  const backoff = new Map<string, NodeJS.Timeout>();
  const committed = new Map<string, bigint>();
  const inFlight = new Set<Promise<void>>();
  let loop: Promise<void> | undefined;
  /** Arrival order of waiting batches: they are handed out first come, first served. */
  let arrivals = 0;
  let wake: (() => void) | undefined;
  const wakeUp = () => wake?.();

  /** Before every JoinGroup: the eager protocol revokes everything; batches in flight finish first, their commits counting. */
  const beforeJoin = async (): Promise<Buffer> => {
    revoking = true;
    generation += 1;
    const deadline = new Promise((resolve) => setTimeout(resolve, settings.rebalanceTimeout).unref());
    await Promise.race([Promise.allSettled([...inFlight]), deadline]);
    assignment = new Map();
    return Buffer.alloc(0);
  };

  const onJoin = (assignments: readonly GroupAssignment[] | undefined): void => {
    generation += 1;
    revoking = false;
    assignment = new Map(
      (assignments ?? []).flatMap(({ topic, partitions }) =>
        partitions.map((partition): [string, PartitionState] => [keyOf(topic, partition), { topic, partition, position: undefined, seeks: 0, busy: false, waiting: undefined }]),
      ),
    );
    committed.clear();
    void resolvePositions(generation);
  };

  /** Where each newly assigned partition starts: its committed offset, else the start or end of the log. */
  const resolvePositions = async (ofGeneration: number): Promise<void> => {
    const current = consumer;
    const states = [...assignment.values()];
    if (!current || states.length === 0) return;
    try {
      const byTopic = new Map<string, number[]>();
      for (const { topic, partition } of states) byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
      const topics = [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
      const commits = await current.listCommittedOffsets({ topics });
      const missing = states.filter((s) => (commits.get(s.topic)?.[s.partition] ?? -1n) < 0n);
      const fallback = missing.length === 0 ? new Map<string, bigint[]>() : await current.listOffsets({
        topics: [...new Set(missing.map((s) => s.topic))],
        timestamp: run?.fromBeginning ? -2n : -1n,
        isolationLevel: 0,
      });
      if (ofGeneration !== generation) return;
      for (const state of states) {
        const commit = commits.get(state.topic)?.[state.partition] ?? -1n;
        state.position = commit >= 0n ? commit : fallback.get(state.topic)?.[state.partition];
      }
      wakeUp();
    } catch (error) {
      if (ofGeneration !== generation || stopping) return;
      // Tried again shortly: the coordinator may be moving.
      setTimeout(() => void resolvePositions(ofGeneration), 500).unref();
      failures.note(error);
    }
  };

  /** Failed fetches or position reads in a row; reported once there are many, then every so often. */
  const failures = {
    count: 0,
    note(error: unknown) {
      this.count += 1;
      if (this.count % FETCH_FAILURES_REPORTED === 0) {
        report(new ConsumerCrashError(`consumer of group ${run?.groupId} failed ${this.count} times in a row and keeps trying: ${messageOf(error)}`, true, { cause: error }));
      }
    },
  };

  /** After a failed batch: hold the partition back a moment, so a failing handler does not spin. */
  const holdBack = (key: string): void => {
    if (redeliveryDelayMs === 0 || backoff.has(key)) return;
    backoff.set(
      key,
      setTimeout(() => {
        backoff.delete(key);
        wakeUp();
      }, redeliveryDelayMs),
    );
  };

  /**
   * Partitions to fetch: those not holding a waiting batch, busy ones included (their next batch
   * is fetched while this one is handled). Nothing while waiting batches fill every slot, so what
   * waits is bounded by a fetch's worth (maxBytes) beyond one batch per slot.
   */
  const fetchable = (): PartitionState[] => {
    if (revoking || stopping) return [];
    const states = [...assignment.values()];
    if (states.filter((s) => s.waiting).length >= settings.partitionsConsumedConcurrently) return [];
    const key = (s: PartitionState) => keyOf(s.topic, s.partition);
    return states.filter((s) => s.position !== undefined && !s.waiting && !paused.has(key(s)) && !backoff.has(key(s)));
  };

  /** Drops a batch not handed out yet: its partition is fetched again from the batch's first offset. */
  const dropWaiting = (state: PartitionState): void => {
    if (!state.waiting) return;
    state.position = BigInt(state.waiting.fetched.records[0]!.offset);
    state.waiting = undefined;
  };

  /** Hands waiting batches out, oldest first, while slots are free; drops those of an older generation. */
  const dispatch = (): void => {
    for (const state of assignment.values()) if (state.waiting && state.waiting.generation !== generation) dropWaiting(state);
    const waiting = [...assignment.values()].filter((s) => s.waiting && !s.busy).sort((a, b) => a.waiting!.order - b.waiting!.order);
    for (const state of waiting) {
      // A handler may pause, seek or stop synchronously when handed its batch: checked each turn.
      if (stopping || revoking || [...assignment.values()].filter((s) => s.busy).length >= settings.partitionsConsumedConcurrently) return;
      if (!state.waiting || state.busy) continue;
      const { fetched } = state.waiting;
      state.waiting = undefined;
      handOut(state, fetched);
    }
  };

  const handOut = (state: PartitionState, fetched: FetchedPartition): void => {
    const key = keyOf(state.topic, state.partition);
    const handedOutIn = generation;
    const seeks = state.seeks;
    const first = BigInt(fetched.records[0]!.offset);
    const current = () => handedOutIn === generation && assignment.get(key) === state && state.seeks === seeks;
    const batch: PartitionBatch = {
      topic: state.topic,
      partition: state.partition,
      records: fetched.records,
      highWatermark: fetched.highWatermark.toString(),
      isActive: () => !stopping && current(),
      // The client heartbeats on its own timer, also while a batch is handled.
      heartbeat: () => Promise.resolve(),
    };
    state.busy = true;
    const work = (async () => {
      try {
        await run!.handleBatch(batch);
      } catch (error) {
        const done = committed.get(key);
        const redeliverFrom = done !== undefined && done > first ? done : first;
        // Rewound also when the generation moved on (a refused commit) but the partition is still
        // this member's: the position already runs past this batch, and a later batch's commit
        // must not pass records that were never handled. A seek or a new assignment set it since.
        if (assignment.get(key) === state && state.seeks === seeks) {
          // The batch fetched after this one is outdated with it.
          state.waiting = undefined;
          state.position = redeliverFrom;
          state.seeks += 1;
          holdBack(key);
        }
        report(new BatchHandlerError(state.topic, state.partition, redeliverFrom.toString(), error));
      } finally {
        state.busy = false;
        dispatch();
        wakeUp();
      }
    })();
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  };

  /** One fetch from one broker for the partitions it leads; hands out what came. */
  const fetchFrom = async (current: Consumer, node: number, states: PartitionState[], metadata: ClusterMetadata): Promise<void> => {
    const ofGeneration = generation;
    const asked = new Map(states.map((s) => [keyOf(s.topic, s.partition), { state: s, offset: s.position!, seeks: s.seeks }]));
    const byTopic = new Map<string, PartitionState[]>();
    for (const s of states) byTopic.set(s.topic, [...(byTopic.get(s.topic) ?? []), s]);
    const topicNames = new Map([...metadata.topics].map(([name, t]) => [t.id, name]));
    let response;
    try {
      response = await current.fetch({
        node,
        connectionPool: fetchConnections,
        maxWaitTime: settings.maxWaitTimeInMs,
        minBytes: 1,
        maxBytes: settings.maxBytes,
        topics: [...byTopic].map(([topic, list]) => ({
          topicId: metadata.topics.get(topic)!.id,
          partitions: list.map((s) => ({ partition: s.partition, fetchOffset: s.position!, partitionMaxBytes: settings.maxBytesPerPartition, currentLeaderEpoch: -1, lastFetchedEpoch: -1 })),
        })),
      });
    } catch (error) {
      // A partition's error fails the whole fetch; the others' records are in its response.
      response = responseOf(error);
      if (!response) throw error;
      current.clearMetadata();
    }
    const fetched = readFetchResponse(response, (id) => topicNames.get(id), (topic, partition) => asked.get(keyOf(topic, partition))?.offset);
    for (const p of fetched) {
      const key = keyOf(p.topic, p.partition);
      const { state, offset, seeks } = asked.get(key)!;
      // Dropped when anything moved meanwhile: a rebalance, a seek, a failed batch, a pause, a stop.
      if (stopping || revoking || ofGeneration !== generation || assignment.get(key) !== state || state.seeks !== seeks || state.position !== offset || paused.has(key)) continue;
      if (p.errorCode === OFFSET_OUT_OF_RANGE) {
        // Retention removed the position (or it is past the end): start over as a new group would.
        state.position = run?.fromBeginning ? p.logStartOffset : p.highWatermark;
        continue;
      }
      if (p.records.length > 0) {
        // Kept until its partition and a slot are free rather than dropped and fetched again.
        state.waiting = { fetched: p, generation: ofGeneration, order: (arrivals += 1) };
        state.position = p.nextOffset ?? BigInt(p.records.at(-1)!.offset) + 1n;
      } else if (p.nextOffset !== undefined && p.nextOffset > offset) {
        state.position = p.nextOffset; // only control records (transaction markers)
      }
    }
    dispatch();
  };

  const fetchLoop = async (): Promise<void> => {
    while (!stopping && consumer) {
      const current = consumer;
      // Also drops waiting batches outdated by a refused commit, so their partitions are fetched again.
      dispatch();
      const ready = fetchable();
      if (ready.length === 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, settings.maxWaitTimeInMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
        continue;
      }
      try {
        const metadata = await current.metadata({ topics: [...new Set(ready.map((s) => s.topic))] });
        const byLeader = new Map<number, PartitionState[]>();
        for (const s of ready) {
          const leader = metadata.topics.get(s.topic)?.partitions[s.partition]?.leader ?? -1;
          if (leader >= 0) byLeader.set(leader, [...(byLeader.get(leader) ?? []), s]);
        }
        await Promise.all([...byLeader].map(([node, states]) => fetchFrom(current, node, states, metadata)));
        failures.count = 0;
      } catch (error) {
        if (stopping) return;
        current.clearMetadata();
        failures.note(error);
        await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, settings.maxWaitTimeInMs * 2)));
      }
    }
  };

  return {
    connect: () => adminConnection.connect(),

    async run(runOptions) {
      validateSubscribeOptions(runOptions);
      if (consumer || run) throw new TransportStateError('run was already called on this subscriber');
      run = runOptions;
      const created = new Consumer({
        ...base,
        groupId: runOptions.groupId,
        ...(settings.groupInstanceId === undefined ? {} : { groupInstanceId: settings.groupInstanceId }),
        sessionTimeout: settings.sessionTimeout,
        rebalanceTimeout: settings.rebalanceTimeout,
        heartbeatInterval: settings.heartbeatInterval,
        autocommit: false,
        maxWaitTime: settings.maxWaitTimeInMs,
        maxBytes: settings.maxBytes,
        protocolsMetadata: () => beforeJoin(),
      });
      created.topics.trackAll(...runOptions.topics);
      created.on('consumer:group:join', (payload) => onJoin(payload.assignments));
      created.on('consumer:group:rebalance', () => {
        // Seen on a heartbeat: finish what is in flight, start nothing new; beforeJoin follows.
        revoking = true;
        generation += 1;
      });
      created.on('error', (error: unknown) => {
        // A rejoin after a rebalance failed: the member is out of the group until it joins again.
        if (stopping) return;
        generation += 1;
        assignment = new Map();
        report(new ConsumerCrashError(`consumer of group ${runOptions.groupId} lost its membership (${messageOf(error)}); it joins again`, true, { cause: error }));
        setTimeout(() => {
          if (!stopping && consumer === created) created.joinGroup({}).catch((e: unknown) => created.emit('error', e));
        }, 1_000).unref();
      });
      consumer = created;
      try {
        await created.joinGroup({});
      } catch (error) {
        consumer = undefined;
        // A consumer that never joined has nothing to leave; a failure to close adds nothing.
        await created.close(true).catch(() => undefined);
        throw new TransportConnectError(`subscriber could not join group ${runOptions.groupId}: ${messageOf(error)}`, { cause: error, retriable: isRetriable(error) });
      }
      fetchConnections = new ConnectionPool(base.clientId, { ...base });
      loop = fetchLoop();
    },

    async commit({ topic, partition, offset }) {
      const key = keyOf(topic, partition);
      const current = consumer;
      if (!current || !assignment.has(key) || current.memberId === null) return;
      // The generation of this moment, which the broker checks: a commit never moves to a
      // later generation (the client's own commit rejoins and retries with the new one).
      const { generationId, memberId, groupId, groupInstanceId } = current;
      try {
        const coordinator = current.coordinatorId ?? (await current.findGroupCoordinator());
        const broker = (await current.metadata({ topics: [] })).brokers.get(coordinator);
        if (!broker) throw new Error(`group coordinator ${coordinator} is not among the brokers`);
        const connection = await current.connections.get(broker);
        await offsetCommitV8.api.async(connection, groupId, generationId, memberId, groupInstanceId, [
          { name: topic, partitions: [{ partitionIndex: partition, committedOffset: BigInt(offset), committedLeaderEpoch: -1, committedMetadata: null }] },
        ]);
        committed.set(key, BigInt(offset));
      } catch (error) {
        if (protocolErrorIds(error).some((id) => GENERATION_ERRORS.has(id))) {
          generation += 1;
          return;
        }
        if (protocolErrorIds(error).some((id) => id === 'NOT_COORDINATOR' || id === 'COORDINATOR_NOT_AVAILABLE')) void current.findGroupCoordinator().catch(() => undefined);
        throw new TransportCommitError(`commit of ${topic}[${partition}] at ${offset} for group ${groupId} failed: ${messageOf(error)}`, {
          cause: error,
          retriable: isRetriable(error),
        });
      }
    },

    seek({ topic, partition, offset }) {
      const state = assignment.get(keyOf(topic, partition));
      if (!state) return;
      state.position = BigInt(offset);
      state.seeks += 1;
      state.waiting = undefined;
      wakeUp();
    },

    pause(partitions) {
      for (const { topic, partition } of partitions) {
        paused.add(keyOf(topic, partition));
        // A paused partition holds no records back; it is fetched again once resumed.
        const state = assignment.get(keyOf(topic, partition));
        if (state) dropWaiting(state);
      }
    },

    resume(partitions) {
      for (const { topic, partition } of partitions) paused.delete(keyOf(topic, partition));
      wakeUp();
    },

    ensureTopics: (topics) => ensureTopics(admin, topics, { connect: () => adminConnection.connect(), leaderTimeoutMs: settings.topicLeaderTimeoutMs }),

    offsets: (ofGroup, topics) => readOffsets(admin, () => adminConnection.connect(), ofGroup, topics),

    async disconnect() {
      if (stopping) return;
      stopping = true;
      for (const timer of backoff.values()) clearTimeout(timer);
      backoff.clear();
      wakeUp();
      // Batches in flight finish; their commits still count.
      await Promise.allSettled([...inFlight]);
      await loop?.catch(() => undefined);
      const current = consumer;
      consumer = undefined;
      generation += 1;
      // Leaves the group, so the partitions go to the others at once.
      await current?.close();
      await fetchConnections?.close();
      assignment = new Map();
      adminConnection.reset();
      await admin.close();
    },
  };
}
