// Over 300 lines for a reason: the in-memory broker is one state (topics, groups, assignments,
// commits) that its publisher, subscribers and rebalances all share, as a real broker's does.
import type { RecordHeaders } from '@evkit/envelope';
import { BatchHandlerError, ConsumerCrashError, TransportConfigError, TransportOffsetsError, TransportStateError } from './errors';
import { partitionForKey } from './murmur2';
import { partitionKeyOf, topicPartitionOf } from './partition-key';
import { toTopicSpecs, validateSubscribeOptions } from './subscribe-options';
import type {
  IncomingRecord,
  PartitionBatch,
  PartitionOffsets,
  PublisherTransport,
  RecordPosition,
  SubscribeOptions,
  SubscriberErrorListener,
  SubscriberTransport,
  TopicPartition,
} from './transport';

// A Kafka broker in memory for unit tests of retry, DLQ and dedupe logic: topics with
// partitions and offsets, consumer groups with committed offsets, and the eager rebalance of
// the classic group protocol KafkaJS speaks (every member's partitions are revoked, batches in
// flight finish, then all partitions are assigned again and read from the last commit). It
// passes the same contract suite as the KafkaJS transport. Deliveries run on setImmediate, so a
// test awaits `idle()` instead of sleeping.

export interface InMemoryBrokerOptions {
  /** Partitions of a topic created by its first use. Default 3, the local stack's `num.partitions`. */
  partitionsPerTopic?: number;
  /** Most records in one batch. Default 100. */
  maxBatchSize?: number;
  /** Clock for record timestamps. Default `Date.now`. */
  now?: () => number;
}

export interface InMemorySubscriberOptions {
  /** Handler failures and `crash()`; default: rethrown on a later tick, so a test sees them. */
  onError?: SubscriberErrorListener;
}

export interface InMemoryTopic {
  readonly name: string;
  readonly partitions: number;
  /** The records of one partition, or of all partitions (partition, then offset order). */
  records(partition?: number): IncomingRecord[];
  highWatermark(partition: number): string;
}

export interface InMemorySubscriber extends SubscriberTransport {
  /** The partitions assigned to this member now. */
  assignment(): TopicPartition[];
  /**
   * Dies like a crashed process: leaves the group at once, without waiting for batches in
   * flight (their commits become no-ops), and reports a ConsumerCrashError to `onError`.
   */
  crash(error?: unknown): void;
}

export interface InMemoryBroker {
  publisher(): PublisherTransport;
  subscriber(options?: InMemorySubscriberOptions): InMemorySubscriber;
  /** Creates a topic (no-op when it exists), like the admin API; a first use also creates one. */
  createTopic(name: string, partitions?: number): void;
  /** Inspection of a topic; throws TransportStateError for a topic that does not exist. */
  topic(name: string): InMemoryTopic;
  /** The group's committed offset for a partition; '-1' when none. */
  committed(groupId: string, topic: string, partition: number): string;
  /** The next `send`, of any publisher, rejects with `error` and appends nothing. */
  failNextSend(error: Error): void;
  /** The next `commit`, of any subscriber, rejects with `error` and commits nothing. */
  failNextCommit(error: Error): void;
  /** Resolves once no batch is in flight, no rebalance is pending and nothing is left to deliver. */
  idle(): Promise<void>;
}

interface Member {
  groupId: string;
  topics: readonly string[];
  fromBeginning: boolean;
  handleBatch: SubscribeOptions['handleBatch'];
  onError: SubscriberErrorListener;
  assigned: Set<string>;
  /** Next offset to deliver, per assigned partition. */
  positions: Map<string, number>;
  /** Pending seeks; a batch of a partition with one is outdated. */
  seeks: Map<string, number>;
  paused: Set<string>;
  inFlight: Map<string, Promise<void>>;
  stopping: boolean;
  gone: boolean;
}

interface Group {
  committed: Map<string, number>;
  members: Member[];
  /** Bumped when a rebalance begins: batches handed out before it are no longer active. */
  generation: number;
  rebalancing: boolean;
  /** Rebalances run one after another. */
  queue: Promise<void>;
}


function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new TransportConfigError(`${name} must be a positive integer, got ${value}`);
  return value;
}

function toBuffer(value: Buffer | string): Buffer {
  return Buffer.from(value);
}

/** Copies headers the way a Kafka consumer returns them: every value a Buffer. */
function copyHeaders(headers: RecordHeaders): RecordHeaders {
  const copy: RecordHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    copy[name] = Array.isArray(value) ? value.map(toBuffer) : toBuffer(value);
  }
  return copy;
}

export function createInMemoryBroker(options: InMemoryBrokerOptions = {}): InMemoryBroker {
  const partitionsPerTopic = positiveInteger('partitionsPerTopic', options.partitionsPerTopic, 3);
  const maxBatchSize = positiveInteger('maxBatchSize', options.maxBatchSize, 100);
  const now = options.now ?? Date.now;
  const topics = new Map<string, IncomingRecord[][]>();
  const groups = new Map<string, Group>();
  const roundRobin = new Map<string, number>();
  let sendFault: Error | undefined;
  let commitFault: Error | undefined;

  const logOf = (topic: string): IncomingRecord[][] => {
    let log = topics.get(topic);
    if (!log) {
      log = Array.from({ length: partitionsPerTopic }, () => []);
      topics.set(topic, log);
    }
    return log;
  };

  const groupOf = (groupId: string): Group => {
    let group = groups.get(groupId);
    if (!group) {
      group = { committed: new Map(), members: [], generation: 0, rebalancing: false, queue: Promise.resolve() };
      groups.set(groupId, group);
    }
    return group;
  };

  /** Whether the member may be handed a batch of the partition now, leaving aside one in flight. */
  const hasWork = (member: Member, key: string): boolean => {
    if (member.stopping || member.gone || groupOf(member.groupId).rebalancing) return false;
    if (!member.assigned.has(key) || member.paused.has(key)) return false;
    if (member.seeks.has(key)) return true;
    const { topic, partition } = topicPartitionOf(key);
    return member.positions.get(key)! < logOf(topic)[partition]!.length;
  };

  const deliverable = (member: Member, key: string): boolean => !member.inFlight.has(key) && hasWork(member, key);

  const pump = (member: Member): void => {
    for (const key of member.assigned) {
      if (!deliverable(member, key)) continue;
      const work = deliver(member, key).finally(() => {
        member.inFlight.delete(key);
        pump(member);
      });
      member.inFlight.set(key, work);
    }
  };

  const pumpAll = (): void => {
    for (const group of groups.values()) for (const member of group.members) pump(member);
  };

  const deliver = async (member: Member, key: string): Promise<void> => {
    // Never inside the caller's send(): handlers run on a later tick, as with a real broker.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const group = groupOf(member.groupId);
    if (!hasWork(member, key)) return;
    const seek = member.seeks.get(key);
    if (seek !== undefined) {
      member.positions.set(key, seek);
      member.seeks.delete(key);
    }
    const { topic, partition } = topicPartitionOf(key);
    const log = logOf(topic)[partition]!;
    const from = member.positions.get(key)!;
    const records = log.slice(from, from + maxBatchSize).map(cloneRecord);
    if (records.length === 0) return;
    const generation = group.generation;
    const active = () =>
      !member.stopping && !member.gone && generation === group.generation && member.assigned.has(key) && !member.seeks.has(key);
    const batch: PartitionBatch = {
      topic,
      partition,
      records,
      highWatermark: String(log.length),
      isActive: active,
      heartbeat: () => Promise.resolve(),
    };
    try {
      await member.handleBatch(batch);
      if (active()) member.positions.set(key, from + records.length);
    } catch (error) {
      const committed = group.committed.get(key) ?? -1;
      const redeliverFrom = Math.max(from, committed);
      if (generation === group.generation && member.assigned.has(key) && !member.seeks.has(key)) member.seeks.set(key, redeliverFrom);
      member.onError(new BatchHandlerError(topic, partition, String(redeliverFrom), error));
    }
  };

  /** The classic protocol's eager rebalance, with KafkaJS's round-robin assignment. */
  const rebalance = (group: Group): Promise<void> => {
    group.queue = group.queue.then(async () => {
      group.generation += 1;
      group.rebalancing = true;
      await Promise.allSettled(group.members.flatMap((member) => [...member.inFlight.values()]));
      const members = group.members.filter((member) => !member.stopping && !member.gone);
      for (const member of group.members) {
        member.assigned.clear();
        member.positions.clear();
        member.seeks.clear();
      }
      for (const topic of [...new Set(members.flatMap((member) => member.topics))].sort()) {
        const subscribed = members.filter((member) => member.topics.includes(topic));
        const log = logOf(topic);
        log.forEach((records, partition) => {
          const member = subscribed[partition % subscribed.length]!;
          const key = partitionKeyOf(topic, partition);
          member.assigned.add(key);
          member.positions.set(key, group.committed.get(key) ?? (member.fromBeginning ? 0 : records.length));
        });
      }
      group.rebalancing = false;
      for (const member of members) pump(member);
    });
    return group.queue;
  };

  const leave = (member: Member): Promise<void> => {
    const group = groupOf(member.groupId);
    group.members = group.members.filter((other) => other !== member);
    member.gone = true;
    member.assigned.clear();
    return rebalance(group);
  };

  const broker: InMemoryBroker = {
    publisher() {
      return {
        connect: () => Promise.resolve(),
        send(records) {
          if (sendFault) {
            const error = sendFault;
            sendFault = undefined;
            return Promise.reject(error);
          }
          const positions = records.map((record): RecordPosition => {
            const log = logOf(record.topic);
            let partition: number;
            if (record.key === null) {
              // Keyless records are spread round-robin, as KafkaJS does.
              partition = (roundRobin.get(record.topic) ?? 0) % log.length;
              roundRobin.set(record.topic, partition + 1);
            } else {
              partition = partitionForKey(record.key, log.length);
            }
            const offset = String(log[partition]!.length);
            log[partition]!.push({
              topic: record.topic,
              partition,
              offset,
              timestamp: now(),
              key: record.key === null ? null : toBuffer(record.key),
              value: record.value === null ? null : Buffer.from(record.value),
              headers: copyHeaders(record.headers),
            });
            return { topic: record.topic, partition, offset };
          });
          pumpAll();
          return Promise.resolve(positions);
        },
        disconnect: () => Promise.resolve(),
      };
    },

    subscriber(subscriberOptions = {}) {
      const onError: SubscriberErrorListener =
        subscriberOptions.onError ??
        ((error) =>
          setImmediate(() => {
            throw error;
          }));
      let member: Member | undefined;

      const assignedMember = (position: TopicPartition): Member | undefined => {
        const key = partitionKeyOf(position.topic, position.partition);
        return member && !member.gone && member.assigned.has(key) ? member : undefined;
      };

      return {
        connect: () => Promise.resolve(),
        async run(run) {
          if (member) throw new TransportStateError('run was already called on this subscriber');
          validateSubscribeOptions(run);
          member = {
            groupId: run.groupId,
            topics: [...run.topics],
            fromBeginning: run.fromBeginning ?? false,
            handleBatch: (batch) => run.handleBatch(batch),
            onError,
            assigned: new Set(),
            positions: new Map(),
            seeks: new Map(),
            paused: new Set(),
            inFlight: new Map(),
            stopping: false,
            gone: false,
          };
          for (const topic of run.topics) logOf(topic);
          const group = groupOf(run.groupId);
          group.members.push(member);
          await rebalance(group);
        },
        commit(position) {
          if (commitFault) {
            const error = commitFault;
            commitFault = undefined;
            return Promise.reject(error);
          }
          const owner = assignedMember(position);
          if (owner) groupOf(owner.groupId).committed.set(partitionKeyOf(position.topic, position.partition), Number(position.offset));
          return Promise.resolve();
        },
        seek(position) {
          const owner = assignedMember(position);
          if (!owner) return;
          owner.seeks.set(partitionKeyOf(position.topic, position.partition), Number(position.offset));
          pump(owner);
        },
        pause(partitions) {
          for (const { topic, partition } of partitions) member?.paused.add(partitionKeyOf(topic, partition));
        },
        resume(partitions) {
          if (!member) return;
          for (const { topic, partition } of partitions) member.paused.delete(partitionKeyOf(topic, partition));
          pump(member);
        },
        ensureTopics(topics) {
          return Promise.resolve().then(() => {
            // No size limit in memory: `sizedLike` has nothing to copy.
            for (const { topic } of toTopicSpecs(topics)) broker.createTopic(topic);
          });
        },
        offsets(groupId, topicNames) {
          const group = groupOf(groupId);
          const result: PartitionOffsets[] = [];
          for (const topic of topicNames) {
            const log = topics.get(topic);
            if (!log) return Promise.reject(new TransportOffsetsError(`topic ${topic} does not exist`));
            log.forEach((records, partition) => {
              result.push({
                topic,
                partition,
                committed: String(group.committed.get(partitionKeyOf(topic, partition)) ?? -1),
                highWatermark: String(records.length),
              });
            });
          }
          return Promise.resolve(result);
        },
        async disconnect() {
          if (!member || member.stopping || member.gone) return;
          member.stopping = true;
          await Promise.allSettled([...member.inFlight.values()]);
          await leave(member);
        },
        assignment() {
          return member ? [...member.assigned].map(topicPartitionOf) : [];
        },
        crash(error) {
          if (!member || member.gone) return;
          const crashed = member;
          void leave(crashed);
          crashed.onError(new ConsumerCrashError('in-memory subscriber crashed', false, { cause: error }));
        },
      };
    },

    createTopic(name, partitions = partitionsPerTopic) {
      positiveInteger('partitions', partitions, partitions);
      if (!topics.has(name)) topics.set(name, Array.from({ length: partitions }, () => []));
    },

    topic(name) {
      const log = topics.get(name);
      if (!log) throw new TransportStateError(`topic ${name} does not exist`);
      return {
        name,
        partitions: log.length,
        records: (partition) => (partition === undefined ? log.flat() : (log[partition] ?? [])).map(cloneRecord),
        highWatermark: (partition) => String(log[partition]?.length ?? 0),
      };
    },

    committed(groupId, topic, partition) {
      return String(groups.get(groupId)?.committed.get(partitionKeyOf(topic, partition)) ?? -1);
    },

    failNextSend(error) {
      sendFault = error;
    },

    failNextCommit(error) {
      commitFault = error;
    },

    async idle() {
      const busy = () =>
        [...groups.values()].some(
          (group) =>
            group.rebalancing ||
            group.members.some((member) => member.inFlight.size > 0 || [...member.assigned].some((key) => deliverable(member, key))),
        );
      // Deliveries chain through setImmediate; a few quiet turns in a row mean none is pending.
      for (let quiet = 0; quiet < 3; quiet = busy() ? 0 : quiet + 1) {
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    },
  };
  return broker;
}

/** A copy, so a handler that mutates what it was given cannot change the log. */
function cloneRecord(record: IncomingRecord): IncomingRecord {
  return {
    ...record,
    key: record.key === null ? null : toBuffer(record.key),
    value: record.value === null ? null : Buffer.from(record.value),
    headers: copyHeaders(record.headers),
  };
}
