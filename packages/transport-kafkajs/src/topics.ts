import { ConfigResourceTypes, type Admin, type ITopicConfig } from 'kafkajs';
import {
  createTopicsAndWaitWith,
  DEFAULT_LEADER_TIMEOUT_MS,
  ensureTopicsWith,
  MAX_MESSAGE_BYTES,
  type TopicAdmin,
  type TopicSpec,
  type TopicToCreate,
} from '@evkit/transport';
import { kafkaJsErrors } from './client';

/**
 * `SubscriberTransport.ensureTopics` on a KafkaJS admin client (the algorithm is
 * `ensureTopicsWith`'s). Topics are created without KafkaJS's `waitForLeaders`, which retries
 * only LEADER_NOT_AVAILABLE and so fails when a loaded Kafka 4 answers otherwise meanwhile; the
 * metadata is polled for leaders instead.
 */
export function ensureTopics(
  admin: Admin,
  topics: readonly (string | TopicSpec)[],
  options: { connect: () => Promise<void>; leaderTimeoutMs: number },
): Promise<void> {
  return ensureTopicsWith(topicAdmin(admin), topics, { ...options, errors: kafkaJsErrors });
}

/**
 * Creates the topics (KafkaJS's topic configs; a topic that exists already is left as it is) and
 * waits until every partition has a leader: KafkaJS's `createTopics` with a `waitForLeaders` that
 * holds on a loaded Kafka 4.
 */
export function createTopicsAndWait(admin: Admin, topics: ITopicConfig[], leaderTimeoutMs = DEFAULT_LEADER_TIMEOUT_MS): Promise<void> {
  return createTopicsAndWaitWith(topicAdmin(admin), topics, { leaderTimeoutMs, errors: kafkaJsErrors });
}

/** The few admin calls `ensureTopicsWith` needs, on KafkaJS. */
function topicAdmin(admin: Admin): TopicAdmin<ITopicConfig & TopicToCreate> {
  return {
    listTopics: () => admin.listTopics(),
    async createTopics(topics) {
      // A topic created meanwhile by another member is not an error (KafkaJS answers false for it).
      // KafkaJS's own waitForLeaders (on by default) is turned off: the leaders are polled for
      // by createTopicsAndWaitWith instead.
      await admin.createTopics({
        topics: topics.map(({ configs, ...topic }) => (configs === undefined ? topic : { ...topic, configEntries: configs })),
        waitForLeaders: false,
      });
    },
    async leaderless(topics) {
      const metadata = await admin.fetchTopicMetadata({ topics });
      const ready = new Set(metadata.topics.filter((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)).map((t) => t.name));
      return topics.filter((topic) => !ready.has(topic));
    },
    async maxMessageBytes(topics) {
      const { resources } = await admin.describeConfigs({
        resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: [MAX_MESSAGE_BYTES] })),
        includeSynonyms: false,
      });
      return resources.map((resource) => ({
        topic: resource.resourceName,
        value: resource.configEntries.find((entry) => entry.configName === MAX_MESSAGE_BYTES)?.configValue,
        problem: resource.errorMessage ?? 'no value',
      }));
    },
  };
}
