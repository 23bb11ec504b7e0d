// Over 300 lines for a reason: the KafkaJS consumer glue is one closure over the group's state
// (assignment, generation, pauses, seeks, back-off) that every callback reads and writes.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Consumer, EachBatchPayload } from 'kafkajs';
import {
  BatchHandlerError,
  connectOnce,
  ConsumerCrashError,
  resolveSubscriberTuning,
  TransportCommitError,
  TransportConfigError,
  TransportConnectError,
  TransportOffsetsError,
  TransportStateError,
  validateSubscribeOptions,
  type IncomingRecord,
  type PartitionBatch,
  type PartitionOffsets,
  type SubscribeOptions,
  type SubscriberErrorListener,
  type SubscriberTransport,
  type SubscriberTuningOptions,
  type TopicPartition,
} from '@evkit/transport';
import { isRetriable, kafkaJsErrors, messageOf, protocolErrorType, resolveClient, type KafkaJsClientOptions } from './client';
import { ensureTopics } from './topics';

/**
 * The shared subscriber tuning (`SubscriberTuningOptions`, with its defaults), and what KafkaJS
 * adds or does its own way.
 */
export interface KafkaJsSubscriberOptions extends KafkaJsClientOptions, SubscriberTuningOptions {
  /** How long the broker may hold a fetch that has no data (ms); also how soon an idle member sees a rebalance. Default 500. */
  maxWaitTimeInMs?: number;
  /**
   * Asked after a crash whose error is retriable; false stops the consumer for good. Default:
   * always restart (KafkaJS's default). Non-retriable crashes never restart.
   */
  restartOnFailure?: (error: Error) => Promise<boolean>;
  /** Handler failures and crashes. Default: logged at error level through the client's logger. */
  onError?: SubscriberErrorListener;
}

// Commits with these answers were refused because the group moved to a new generation: the
// partition may belong to another member now, so the commit did not and must not count.
const GENERATION_ERRORS = new Set(['ILLEGAL_GENERATION', 'REBALANCE_IN_PROGRESS', 'UNKNOWN_MEMBER_ID', 'FENCED_INSTANCE_ID']);
// Heartbeat answers after which KafkaJS rejoins the group, revoking every partition it holds.
const REJOIN_ERRORS = new Set([...GENERATION_ERRORS, 'NOT_COORDINATOR_FOR_GROUP']);

const keyOf = (topic: string, partition: number) => `${partition}:${topic}`;

function byTopic(partitions: Iterable<TopicPartition>): { topic: string; partitions: number[] }[] {
  const grouped = new Map<string, number[]>();
  for (const { topic, partition } of partitions) grouped.set(topic, [...(grouped.get(topic) ?? []), partition]);
  return [...grouped].map(([topic, list]) => ({ topic, partitions: list }));
}

export function createKafkaJsSubscriber(options: KafkaJsSubscriberOptions): SubscriberTransport {
  const kafka = resolveClient(options);
  const settings = resolveSubscriberTuning(options);
  const { redeliveryDelayMs } = settings;
  if (options.restartOnFailure !== undefined && typeof options.restartOnFailure !== 'function') {
    throw new TransportConfigError('restartOnFailure must be a function');
  }
  if (settings.groupInstanceId !== undefined) {
    throw new TransportConfigError("groupInstanceId (static membership) is not supported by KafkaJS 2.2.4: use client 'platformatic'");
  }
  const logger = kafka.logger();
  const report: SubscriberErrorListener =
    options.onError ?? ((error) => logger.error(error.message, { code: error.code, retriable: error.retriable }));

  const admin = kafka.admin();
  const adminConnection = connectOnce(() => admin.connect(), 'subscriber', kafkaJsErrors);
  let consumer: Consumer | undefined;
  let groupId = '';
  /** Partitions of the current generation, from the last GROUP_JOIN; empty while rejoining. */
  let assignment = new Set<string>();
  /** Bumped whenever what was handed out may have been revoked: batches of older generations are inactive. */
  let generation = 0;
  let running = false;
  let stopping = false;
  const paused = new Set<string>();
  const backoff = new Map<string, NodeJS.Timeout>();
  const committed = new Map<string, bigint>();
  const inFlight = new Set<Promise<void>>();

  /**
   * Pause, resume and seek need a running KafkaJS consumer group; between a crash and its
   * restart there is none, and the restart's GROUP_JOIN applies our pause state again.
   */
  const onConsumer = (action: (consumer: Consumer) => void): void => {
    if (!consumer || !running) return;
    try {
      action(consumer);
    } catch (error) {
      logger.debug(`consumer not running, state kept for the next join: ${messageOf(error)}`);
    }
  };

  const applyPauses = (keys: Iterable<string>, pause: boolean): void => {
    const partitions = [...keys].map((key) => ({ topic: key.slice(key.indexOf(':') + 1), partition: Number(key.slice(0, key.indexOf(':'))) }));
    if (partitions.length === 0) return;
    onConsumer((c) => (pause ? c.pause(byTopic(partitions)) : c.resume(byTopic(partitions))));
  };

  /** After a failed batch: hold the partition back a moment, so a failing handler does not spin. */
  const holdBack = (topic: string, partition: number): void => {
    const key = keyOf(topic, partition);
    if (redeliveryDelayMs === 0 || backoff.has(key)) return;
    applyPauses([key], true);
    const timer = setTimeout(() => {
      backoff.delete(key);
      if (!paused.has(key)) applyPauses([key], false);
    }, redeliveryDelayMs);
    backoff.set(key, timer);
  };

  const toRecord = (topic: string, partition: number, message: EachBatchPayload['batch']['messages'][number]): IncomingRecord => ({
    topic,
    partition,
    offset: message.offset,
    timestamp: Number(message.timestamp),
    key: message.key ?? null,
    value: message.value ?? null,
    headers: message.headers ?? {},
  });

  const eachBatch = (handleBatch: SubscribeOptions['handleBatch']) => async (payload: EachBatchPayload): Promise<void> => {
    const { batch } = payload;
    const { topic, partition } = batch;
    const isStale = () => payload.isStale();
    const key = keyOf(topic, partition);
    // Stopping: leave the batch unresolved and uncommitted; the next owner reads it again.
    if (stopping) return;
    const handedOutIn = generation;
    const isActive = () => !stopping && handedOutIn === generation && assignment.has(key) && payload.isRunning() && !isStale();
    const partitionBatch: PartitionBatch = {
      topic,
      partition,
      records: batch.messages.map((message) => toRecord(topic, partition, message)),
      highWatermark: batch.highWatermark,
      isActive,
      heartbeat: async () => {
        try {
          await payload.heartbeat();
        } catch (error) {
          // A rebalance began: this member's partitions are being revoked (eager protocol).
          // KafkaJS's runner heartbeats again after the batch and rejoins; any other failure
          // it meets there too, and handles or reports as a crash.
          if (REJOIN_ERRORS.has(protocolErrorType(error) ?? '')) generation += 1;
        }
      },
    };
    const work = handleBatch(partitionBatch);
    inFlight.add(work);
    try {
      await work;
      // Moves the fetch position only: with autoCommit off KafkaJS never commits resolved offsets.
      if (!isStale()) payload.resolveOffset(batch.lastOffset());
    } catch (error) {
      // Not rethrown: KafkaJS would restart every partition's fetch loop and, once its retries
      // ran out (or at once for a TypeError), crash the consumer. Only this partition goes back.
      const first = BigInt(batch.firstOffset() ?? batch.messages[0]!.offset);
      const done = committed.get(key);
      const redeliverFrom = done !== undefined && done > first ? done : first;
      if (!isStale() && assignment.has(key) && handedOutIn === generation) {
        onConsumer((c) => c.seek({ topic, partition, offset: redeliverFrom.toString() }));
        holdBack(topic, partition);
      }
      report(new BatchHandlerError(topic, partition, redeliverFrom.toString(), error));
    } finally {
      inFlight.delete(work);
    }
  };

  return {
    connect: () => adminConnection.connect(),

    async run(run) {
      validateSubscribeOptions(run);
      if (consumer) throw new TransportStateError('run was already called on this subscriber');
      groupId = run.groupId;
      const created = kafka.consumer({
        groupId,
        sessionTimeout: settings.sessionTimeout,
        rebalanceTimeout: settings.rebalanceTimeout,
        heartbeatInterval: settings.heartbeatInterval,
        maxBytesPerPartition: settings.maxBytesPerPartition,
        maxBytes: settings.maxBytes,
        maxWaitTimeInMs: settings.maxWaitTimeInMs,
        retry: { ...options.retry, ...(options.restartOnFailure && { restartOnFailure: options.restartOnFailure }) },
      });
      consumer = created;
      let joined = false;
      let startupCrash: Error | undefined;
      created.on(created.events.GROUP_JOIN, ({ payload }) => {
        joined = true;
        running = true;
        generation += 1;
        assignment = new Set(Object.entries(payload.memberAssignment).flatMap(([topic, partitions]) => partitions.map((p) => keyOf(topic, p))));
        applyPauses([...assignment].filter((key) => paused.has(key) || backoff.has(key)), true);
      });
      created.on(created.events.REBALANCING, () => {
        // Rejoining: until the next GROUP_JOIN this member owns nothing it may commit.
        generation += 1;
        assignment = new Set();
      });
      created.on(created.events.CRASH, ({ payload }) => {
        generation += 1;
        assignment = new Set();
        running = false;
        // Before the first join the crash is run()'s to report, as its rejection.
        if (!joined) {
          startupCrash = payload.error;
          return;
        }
        if (!payload.restart) consumer = undefined;
        report(
          new ConsumerCrashError(
            `consumer of group ${payload.groupId} crashed (${payload.error.name}: ${payload.error.message}); ${payload.restart ? 'KafkaJS restarts it' : 'it stopped for good'}`,
            payload.restart,
            { cause: payload.error },
          ),
        );
      });
      try {
        await created.connect();
        await created.subscribe({ topics: [...run.topics], fromBeginning: run.fromBeginning ?? false });
        await created.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: settings.partitionsConsumedConcurrently,
          eachBatch: eachBatch((batch) => run.handleBatch(batch)),
        });
      } catch (error) {
        startupCrash = error instanceof Error ? error : new Error(String(error));
      }
      if (!joined) {
        consumer = undefined;
        // Also cancels a restart KafkaJS may have scheduled. A failure to close a consumer that
        // never joined adds nothing to the error below.
        await created.disconnect().catch(() => undefined);
        const cause = startupCrash ?? new Error('the consumer did not join the group');
        throw new TransportConnectError(`subscriber could not join group ${groupId}: ${cause.message}`, { cause, retriable: isRetriable(cause) });
      }
    },

    async commit({ topic, partition, offset }) {
      const key = keyOf(topic, partition);
      if (!consumer || !assignment.has(key)) return;
      try {
        // Handed over with no await before it: KafkaJS's first attempt carries the generation
        // current now, which the broker checks.
        await consumer.commitOffsets([{ topic, partition, offset }]);
        committed.set(key, BigInt(offset));
      } catch (error) {
        if (GENERATION_ERRORS.has(protocolErrorType(error) ?? '')) {
          generation += 1;
          return;
        }
        throw new TransportCommitError(`commit of ${topic}[${partition}] at ${offset} for group ${groupId} failed: ${messageOf(error)}`, {
          cause: error,
          retriable: isRetriable(error),
        });
      }
    },

    seek({ topic, partition, offset }) {
      if (!assignment.has(keyOf(topic, partition))) return;
      onConsumer((c) => c.seek({ topic, partition, offset }));
    },

    pause(partitions) {
      const keys = partitions.map(({ topic, partition }) => keyOf(topic, partition));
      for (const key of keys) paused.add(key);
      applyPauses(keys, true);
    },

    resume(partitions) {
      const keys = partitions.map(({ topic, partition }) => keyOf(topic, partition));
      for (const key of keys) paused.delete(key);
      applyPauses(keys.filter((key) => !backoff.has(key)), false);
    },

    ensureTopics: (topics) => ensureTopics(admin, topics, { connect: () => adminConnection.connect(), leaderTimeoutMs: settings.topicLeaderTimeoutMs }),

    async offsets(ofGroup, topics) {
      try {
        await adminConnection.connect();
        const [committedOffsets, highWatermarks] = await withFreshMetadata(
          () =>
            Promise.all([
              admin.fetchOffsets({ groupId: ofGroup, topics: [...topics] }),
              Promise.all(topics.map(async (topic) => ({ topic, partitions: await admin.fetchTopicOffsets(topic) }))),
            ]),
          () => admin.fetchTopicMetadata({ topics: [...topics] }),
        );
        const committedOf = new Map(
          committedOffsets.flatMap(({ topic, partitions }) => partitions.map((p) => [keyOf(topic, p.partition), p.offset] as const)),
        );
        return highWatermarks.flatMap(({ topic, partitions }) =>
          [...partitions]
            .sort((a, b) => a.partition - b.partition)
            .map((p): PartitionOffsets => ({
              topic,
              partition: p.partition,
              committed: committedOf.get(keyOf(topic, p.partition)) ?? '-1',
              highWatermark: p.high,
            })),
        );
      } catch (error) {
        if (error instanceof TransportConnectError) throw new TransportOffsetsError(error.message, { cause: error, retriable: error.retriable });
        throw new TransportOffsetsError(`offsets of group ${ofGroup} on ${topics.join(', ')} could not be read: ${messageOf(error)}`, {
          cause: error,
          retriable: isRetriable(error),
        });
      }
    },

    async disconnect() {
      if (stopping) return;
      stopping = true;
      for (const timer of backoff.values()) clearTimeout(timer);
      backoff.clear();
      // Idle the fetch loop while batches in flight finish; their commits still count.
      applyPauses(assignment, true);
      await Promise.allSettled([...inFlight]);
      const current = consumer;
      consumer = undefined;
      running = false;
      await current?.disconnect();
      assignment = new Set();
      generation += 1;
      adminConnection.reset();
      await admin.disconnect();
    },
  };
}

/**
 * KafkaJS's admin answers a topic created a moment ago (by this member or another) with stale
 * metadata: NOT_LEADER_FOR_PARTITION, LEADER_NOT_AVAILABLE or UNKNOWN_TOPIC_OR_PARTITION, without
 * refreshing it. `read` is tried again after `refresh`, with back-off, up to about 3 s in all.
 */
async function withFreshMetadata<T>(read: () => Promise<T>, refresh: () => Promise<unknown>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await read();
    } catch (error) {
      if (attempt >= 5 || !STALE_METADATA.has(protocolErrorType(error) ?? '')) throw error;
      await refresh().catch(() => undefined); // the next read reports what is still wrong
      await sleep(100 * 2 ** attempt);
    }
  }
}

const STALE_METADATA = new Set(['NOT_LEADER_FOR_PARTITION', 'LEADER_NOT_AVAILABLE', 'UNKNOWN_TOPIC_OR_PARTITION']);
