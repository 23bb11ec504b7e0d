import type { ClientErrorReader } from './connect-once';
import { TransportTopicsError } from './errors';
import { toTopicSpecs } from './subscribe-options';
import type { TopicSpec } from './transport';

// `SubscriberTransport.ensureTopics`, the same for every client: a transport supplies a
// `TopicAdmin`, a few calls on its own admin client.

export const MAX_MESSAGE_BYTES = 'max.message.bytes';
/** How long a transport waits by default for the partitions of a topic it created to get a leader (ms). */
export const DEFAULT_LEADER_TIMEOUT_MS = 30_000;
const LEADER_POLL_MS = 200;

/** A topic to create with the broker's default partitions and replication, and these topic configs. */
export interface TopicToCreate {
  topic: string;
  configs?: { name: string; value: string }[];
}

/** One topic's `max.message.bytes` as the cluster described it. */
export interface TopicLimitValue {
  topic: string;
  /** The value in force (the topic's own setting, else the broker's default), as the client gave it. */
  value: unknown;
  /** Why there is no value, when the client says (put in the error in brackets). */
  problem?: string;
}

/** What `ensureTopicsWith` needs of a client's admin. Errors are thrown as the client throws them. */
export interface TopicAdmin<T extends TopicToCreate = TopicToCreate> {
  /** The names of the topics in the cluster. */
  listTopics(): Promise<string[]>;
  /** Creates the topics; one that exists already (created meanwhile by another member) is left as it is. */
  createTopics(topics: T[]): Promise<void>;
  /** The topics among these that have no partitions yet, or a partition without a leader. */
  leaderless(topics: string[]): Promise<string[]>;
  /** The `max.message.bytes` of these topics. */
  maxMessageBytes(topics: string[]): Promise<TopicLimitValue[]>;
}

export interface EnsureTopicsOptions {
  /** Connects the admin client; called before anything else. */
  connect: () => Promise<void>;
  /** How long to wait for every partition of a created topic to have a leader (ms). */
  leaderTimeoutMs: number;
  errors: ClientErrorReader;
}

/**
 * `SubscriberTransport.ensureTopics`: creates the missing topics, plain ones first (a sized one
 * may be sized like a topic created in this same call), then those `sizedLike` another topic,
 * with its `max.message.bytes` plus the headroom (the broker's default when the source does not
 * exist), and waits until every partition has a leader. Any failure is a TransportTopicsError.
 */
export async function ensureTopicsWith(admin: TopicAdmin, topics: readonly (string | TopicSpec)[], options: EnsureTopicsOptions): Promise<void> {
  const specs = toTopicSpecs(topics);
  if (specs.length === 0) return;
  const names = specs.map((spec) => spec.topic).join(', ');
  const { errors, leaderTimeoutMs } = options;
  try {
    await options.connect();
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((spec) => !existing.has(spec.topic));
    const plain = missing.filter((spec) => !spec.sizedLike);
    await createTopicsAndWaitWith(admin, plain.map(({ topic }) => ({ topic })), { leaderTimeoutMs, errors });
    for (const { topic } of plain) existing.add(topic);
    const sized = missing.filter((spec) => spec.sizedLike);
    const limits = await maxMessageBytes(admin, [...new Set(sized.map((spec) => spec.sizedLike!.topic))].filter((topic) => existing.has(topic)));
    await createTopicsAndWaitWith(
      admin,
      sized.map(({ topic, sizedLike }) => {
        const limit = limits.get(sizedLike!.topic);
        return limit === undefined ? { topic } : { topic, configs: [{ name: MAX_MESSAGE_BYTES, value: String(limit + sizedLike!.headroomBytes) }] };
      }),
      { leaderTimeoutMs, errors },
    );
  } catch (error) {
    if (error instanceof TransportTopicsError) throw error;
    throw new TransportTopicsError(`could not create topics ${names}: ${errors.messageOf(error)}`, { cause: error, retriable: errors.isRetriable(error) });
  }
}

/**
 * Creates the topics through the admin and waits until every partition has a leader, polling
 * the metadata (a new topic's metadata spreads to the brokers a moment after its creation, so
 * retriable errors meanwhile are waited out). No leader in time: a retriable TransportTopicsError.
 */
export async function createTopicsAndWaitWith<T extends TopicToCreate>(
  admin: Pick<TopicAdmin<T>, 'createTopics' | 'leaderless'>,
  topics: T[],
  options: { leaderTimeoutMs: number; errors: ClientErrorReader },
): Promise<void> {
  if (topics.length === 0) return;
  await admin.createTopics(topics);
  const names = topics.map(({ topic }) => topic);
  const deadline = Date.now() + options.leaderTimeoutMs;
  for (;;) {
    let pending = names;
    let lastError: unknown;
    try {
      pending = await admin.leaderless(names);
      if (pending.length === 0) return;
    } catch (error) {
      if (!options.errors.isRetriable(error)) throw error;
      lastError = error;
    }
    if (Date.now() >= deadline) {
      throw new TransportTopicsError(
        `partitions of ${pending.join(', ')} had no leader ${options.leaderTimeoutMs} ms after their creation${lastError === undefined ? '' : ` (${options.errors.messageOf(lastError)})`}`,
        { cause: lastError, retriable: true },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, LEADER_POLL_MS));
  }
}

/** Each topic's `max.message.bytes` in force; one the cluster does not say is an error. */
async function maxMessageBytes(admin: TopicAdmin, topics: string[]): Promise<Map<string, number>> {
  if (topics.length === 0) return new Map();
  const limits = new Map<string, number>();
  for (const { topic, value, problem } of await admin.maxMessageBytes(topics)) {
    const limit = Number(value);
    if (!Number.isInteger(limit) || limit <= 0) {
      throw new TransportTopicsError(`topic ${topic} has no readable ${MAX_MESSAGE_BYTES}${problem === undefined ? '' : ` (${problem})`}`, { retriable: false });
    }
    limits.set(topic, limit);
  }
  return limits;
}
