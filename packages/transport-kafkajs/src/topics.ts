import { ConfigResourceTypes, type Admin, type ITopicConfig } from 'kafkajs';
import { toTopicSpecs, TransportTopicsError, type TopicSpec } from '@evkit/transport';
import { isRetriable, messageOf } from './client';

const MAX_MESSAGE_BYTES = 'max.message.bytes';
const LEADER_POLL_MS = 200;

/**
 * `SubscriberTransport.ensureTopics` on a KafkaJS admin client. Topics are created without
 * KafkaJS's `waitForLeaders`, which retries only LEADER_NOT_AVAILABLE and so fails when a loaded
 * Kafka 4 answers otherwise meanwhile; the metadata is polled for leaders instead.
 */
export async function ensureTopics(
  admin: Admin,
  topics: readonly (string | TopicSpec)[],
  options: { connect: () => Promise<void>; leaderTimeoutMs: number },
): Promise<void> {
  const specs = toTopicSpecs(topics);
  if (specs.length === 0) return;
  const names = specs.map((spec) => spec.topic).join(', ');
  try {
    await options.connect();
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((spec) => !existing.has(spec.topic));
    // Plain topics first: a sized one may be sized like a topic created in this same call.
    const plain = missing.filter((spec) => !spec.sizedLike);
    await createTopicsAndWait(admin, plain.map(({ topic }) => ({ topic })), options.leaderTimeoutMs);
    for (const { topic } of plain) existing.add(topic);
    const sized = missing.filter((spec) => spec.sizedLike);
    const limits = await maxMessageBytes(admin, [...new Set(sized.map((spec) => spec.sizedLike!.topic))].filter((topic) => existing.has(topic)));
    await createTopicsAndWait(
      admin,
      sized.map(({ topic, sizedLike }) => {
        const limit = limits.get(sizedLike!.topic);
        return limit === undefined ? { topic } : { topic, configEntries: [{ name: MAX_MESSAGE_BYTES, value: String(limit + sizedLike!.headroomBytes) }] };
      }),
      options.leaderTimeoutMs,
    );
  } catch (error) {
    if (error instanceof TransportTopicsError) throw error;
    throw new TransportTopicsError(`could not create topics ${names}: ${messageOf(error)}`, { cause: error, retriable: isRetriable(error) });
  }
}

const DEFAULT_LEADER_TIMEOUT_MS = 30_000;

/**
 * Creates the topics (KafkaJS's topic configs; a topic that exists already is left as it is) and
 * waits until every partition has a leader: KafkaJS's `createTopics` with a `waitForLeaders` that
 * holds on a loaded Kafka 4.
 */
export async function createTopicsAndWait(admin: Admin, topics: ITopicConfig[], leaderTimeoutMs = DEFAULT_LEADER_TIMEOUT_MS): Promise<void> {
  if (topics.length === 0) return;
  // A topic created meanwhile by another member is not an error (KafkaJS answers false for it).
  await admin.createTopics({ topics });
  await waitForLeaders(
    admin,
    topics.map(({ topic }) => topic),
    leaderTimeoutMs,
  );
}

async function waitForLeaders(admin: Admin, topics: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let pending = topics;
    let lastError: unknown;
    try {
      const metadata = await admin.fetchTopicMetadata({ topics });
      const ready = new Set(metadata.topics.filter((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)).map((t) => t.name));
      pending = topics.filter((topic) => !ready.has(topic));
      if (pending.length === 0) return;
    } catch (error) {
      // A new topic's metadata spreads to the brokers a moment after its creation.
      if (!isRetriable(error)) throw error;
      lastError = error;
    }
    if (Date.now() >= deadline) {
      throw new TransportTopicsError(
        `partitions of ${pending.join(', ')} had no leader ${timeoutMs} ms after their creation${lastError === undefined ? '' : ` (${messageOf(lastError)})`}`,
        { cause: lastError, retriable: true },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, LEADER_POLL_MS));
  }
}

/** Each topic's `max.message.bytes` in force (its own setting, else the broker's default). */
async function maxMessageBytes(admin: Admin, topics: string[]): Promise<Map<string, number>> {
  if (topics.length === 0) return new Map();
  const { resources } = await admin.describeConfigs({
    resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: [MAX_MESSAGE_BYTES] })),
    includeSynonyms: false,
  });
  const limits = new Map<string, number>();
  for (const resource of resources) {
    const value = Number(resource.configEntries.find((entry) => entry.configName === MAX_MESSAGE_BYTES)?.configValue);
    if (!Number.isInteger(value) || value <= 0) {
      throw new TransportTopicsError(`topic ${resource.resourceName} has no readable ${MAX_MESSAGE_BYTES} (${resource.errorMessage ?? 'no value'})`, {
        retriable: false,
      });
    }
    limits.set(resource.resourceName, value);
  }
  return limits;
}
