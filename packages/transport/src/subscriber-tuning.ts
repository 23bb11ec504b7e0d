import { TransportConfigError } from './errors';
import { DEFAULT_LEADER_TIMEOUT_MS } from './ensure-topics';
import { checkPositiveInteger } from './option-checks';
import type { SubscriberErrorListener } from './transport';

/**
 * The subscriber options every transport takes, in one vocabulary: a transport's own options
 * extend this, and say there what it adds or does differently (e.g. where `onError` goes by
 * default).
 */
export interface SubscriberTuningOptions {
  /** Partitions whose batches are handled at the same time. Default 3. */
  partitionsConsumedConcurrently?: number;
  /** The broker drops a member silent this long (ms). Default 30000; brokers allow 6000 to 300000. */
  sessionTimeout?: number;
  /** How long the broker waits for members to rejoin a rebalance (ms). Default 60000. */
  rebalanceTimeout?: number;
  /** Heartbeat period (ms), about a third of sessionTimeout; must be below it. Default 3000. */
  heartbeatInterval?: number;
  /** Most bytes fetched per partition per request. Default 1048576 (1 MiB). */
  maxBytesPerPartition?: number;
  /** Most bytes per fetch request. Default 10485760 (10 MiB). */
  maxBytes?: number;
  /** How long the broker may hold a fetch that has no data (ms). Default 500. */
  maxWaitTimeInMs?: number;
  /** Pause of a partition after handleBatch threw, before its records come again (ms); 0 for none. Default 1000. */
  redeliveryDelayMs?: number;
  /** How long `ensureTopics` waits for the partitions of topics it created to get a leader (ms). Default 30000. */
  topicLeaderTimeoutMs?: number;
  /**
   * Static membership (KIP-345): this member's stable name in the group, e.g. the pod name of a
   * StatefulSet. A member restarted under the same name within `sessionTimeout` gets its
   * partitions back at once, without a rebalance and without waiting out the dead member's
   * session. Two live members must never share one (the broker fences the older). Letters,
   * digits, `.`, `_` and `-`, at most 249. @platformatic/kafka only: the KafkaJS transport
   * refuses it (KafkaJS 2.2.4 has no static membership).
   */
  groupInstanceId?: string;
  /** Handler failures and crashes. Must not throw. The default depends on the transport. */
  onError?: SubscriberErrorListener;
}

/** The tuning in force: the options given, else the defaults. */
export interface SubscriberTuning {
  partitionsConsumedConcurrently: number;
  sessionTimeout: number;
  rebalanceTimeout: number;
  heartbeatInterval: number;
  maxBytesPerPartition: number;
  maxBytes: number;
  maxWaitTimeInMs: number;
  topicLeaderTimeoutMs: number;
  redeliveryDelayMs: number;
  groupInstanceId: string | undefined;
}

const GROUP_INSTANCE_ID = /^[a-zA-Z0-9._-]{1,249}$/;

/** The tuning with its defaults applied; throws TransportConfigError naming the option at fault. */
export function resolveSubscriberTuning(options: SubscriberTuningOptions): SubscriberTuning {
  const positive = {
    partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 3,
    sessionTimeout: options.sessionTimeout ?? 30_000,
    rebalanceTimeout: options.rebalanceTimeout ?? 60_000,
    heartbeatInterval: options.heartbeatInterval ?? 3_000,
    maxBytesPerPartition: options.maxBytesPerPartition ?? 1_048_576,
    maxBytes: options.maxBytes ?? 10_485_760,
    maxWaitTimeInMs: options.maxWaitTimeInMs ?? 500,
    topicLeaderTimeoutMs: options.topicLeaderTimeoutMs ?? DEFAULT_LEADER_TIMEOUT_MS,
  };
  for (const [name, value] of Object.entries(positive)) checkPositiveInteger(name, value);
  const redeliveryDelayMs = options.redeliveryDelayMs ?? 1_000;
  if (!Number.isInteger(redeliveryDelayMs) || redeliveryDelayMs < 0) {
    throw new TransportConfigError(`redeliveryDelayMs must be a non-negative integer, got ${redeliveryDelayMs}`);
  }
  if (positive.heartbeatInterval >= positive.sessionTimeout) {
    throw new TransportConfigError(`heartbeatInterval (${positive.heartbeatInterval}) must be below sessionTimeout (${positive.sessionTimeout})`);
  }
  const { groupInstanceId } = options;
  if (groupInstanceId !== undefined && (typeof groupInstanceId !== 'string' || !GROUP_INSTANCE_ID.test(groupInstanceId))) {
    throw new TransportConfigError(`groupInstanceId must be 1 to 249 letters, digits, '.', '_' or '-', got ${JSON.stringify(groupInstanceId)}`);
  }
  return { ...positive, redeliveryDelayMs, groupInstanceId };
}
