import type { KafkaRecord } from '@evkit/envelope';
import type { BatchHandlerError, ConsumerCrashError } from './errors';

// The seam between evkit and a Kafka client. Envelope, retry and outbox code never see the
// client; the producer and consumer packages talk to it only through these interfaces, so a
// librdkafka-based client or @platformatic/kafka can be plugged in by implementing them. Every
// implementation passes the contract suite in @evkit/testkit (`transportContract`).

export interface OutgoingRecord extends KafkaRecord {
  topic: string;
}

export interface RecordPosition {
  topic: string;
  partition: number;
  /** Kafka offsets are 64-bit; strings keep them exact. */
  offset: string;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface PublisherTransport {
  /** Connects to the cluster. `send` connects by itself when this was not called. */
  connect(): Promise<void>;
  /**
   * Sends the records, each to the partition its key hashes to (Java's murmur2, see
   * `partitionForKey`; keyless records are spread), acknowledged by all in-sync replicas, with
   * producer idempotence. Records of one partition keep their input order. Resolves once every
   * record is acknowledged, with positions in input order; rejects with TransportSendError if
   * any is not.
   */
  send(records: readonly OutgoingRecord[]): Promise<RecordPosition[]>;
  /** Waits for sends in flight, then closes. */
  disconnect(): Promise<void>;
}

export interface IncomingRecord extends KafkaRecord, RecordPosition {
  /** Broker or producer timestamp, milliseconds since the epoch. */
  timestamp: number;
}

export interface PartitionBatch {
  topic: string;
  partition: number;
  /** In offset order; never empty. */
  records: readonly IncomingRecord[];
  /** Offset of the next record the broker will write to this partition (for lag). */
  highWatermark: string;
  /**
   * False once the partition was revoked (a rebalance began, even if the partition comes back
   * to this member), once a `seek` on the partition made this batch outdated, or once the
   * subscriber is stopping: start no more work from this batch. Commits of work already done
   * still count while the partition is assigned; after a revocation they are no-ops.
   */
  isActive(): boolean;
  /** Keeps the group membership alive during long work; never rejects. */
  heartbeat(): Promise<void>;
}

export interface SubscribeOptions {
  groupId: string;
  topics: readonly string[];
  /** Where a group without committed offsets starts. Default false: the end. */
  fromBeginning?: boolean;
  /**
   * Handles one partition's batch. Batches of one partition are never handed out concurrently;
   * batches of different partitions may be. Nothing is committed unless the handler calls
   * `commit`. When it returns, the next batch of the partition follows the last record (or the
   * offset of a `seek` it made); what it left uncommitted is delivered again only after a seek,
   * a restart or a rebalance. When it throws, the partition is sought back to the first offset
   * it had not committed, the error is reported (the subscriber's `onError`) and those records
   * come again.
   */
  handleBatch(batch: PartitionBatch): Promise<void>;
}

export interface SubscriberTransport {
  /** Connects to the cluster (the group is joined by `run`). */
  connect(): Promise<void>;
  /** Joins the group and starts delivering batches; resolves once the group is joined. */
  run(options: SubscribeOptions): Promise<void>;
  /**
   * Commits `offset` (the next offset to read) for the partition. A no-op when the partition is
   * not assigned to this member, or the group has moved on to a new generation since (the
   * broker refuses the commit): a revoked partition's records go to its new owner from the
   * last commit that counted.
   */
  commit(position: RecordPosition): Promise<void>;
  /**
   * Makes the next batch of the partition start at `offset` (redelivery after a failure,
   * without restarting). Ignored for a partition not assigned to this member.
   */
  seek(position: RecordPosition): void;
  /** Stops fetching the partitions until `resume`; a batch already handed out completes. */
  pause(partitions: readonly TopicPartition[]): void;
  resume(partitions: readonly TopicPartition[]): void;
  /** The group's committed offsets and each partition's high watermark, for lag. */
  offsets(groupId: string, topics: readonly string[]): Promise<PartitionOffsets[]>;
  /**
   * Creates the topics that do not exist yet (the broker's default partitions and replication)
   * and resolves once each of their partitions has a leader; existing ones are left as they are.
   * For topics evkit itself owns, such as retry tiers, which must exist before a group can
   * subscribe to them. Rejects with TransportConfigError for a malformed entry and
   * TransportTopicsError when the cluster fails.
   */
  ensureTopics(topics: readonly (string | TopicSpec)[]): Promise<void>;
  /**
   * Stops handing out batches, waits for the ones in flight (their commits still count; their
   * `isActive()` is false), leaves the group and closes. Uncommitted records go to the next
   * owner.
   */
  disconnect(): Promise<void>;
}

/** A topic for `ensureTopics`; a plain name means `{ topic: name }`. */
export interface TopicSpec {
  topic: string;
  /**
   * Create it taking records as large as this existing topic takes (its `max.message.bytes`),
   * plus `headroomBytes` for headers added on the way (a dead-letter topic and its source).
   * When that topic does not exist either, the broker's default applies.
   */
  sizedLike?: { topic: string; headroomBytes: number };
}

export interface PartitionOffsets {
  topic: string;
  partition: number;
  /** Next offset the group will read; '-1' when it has committed nothing. */
  committed: string;
  highWatermark: string;
}

/**
 * Where a subscriber reports what it cannot handle itself: a `handleBatch` that threw
 * (BatchHandlerError; the records are redelivered) or a client crash (ConsumerCrashError).
 */
export type SubscriberErrorListener = (error: BatchHandlerError | ConsumerCrashError) => void;
