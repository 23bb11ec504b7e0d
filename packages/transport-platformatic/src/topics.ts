import { ConfigResourceTypes, type Admin } from '@platformatic/kafka';
import {
  createTopicsAndWaitWith,
  DEFAULT_LEADER_TIMEOUT_MS,
  ensureTopicsWith,
  MAX_MESSAGE_BYTES,
  type TopicAdmin,
  type TopicSpec,
  type TopicToCreate,
} from '@evkit/transport';
import { platformaticErrors, protocolErrorIds } from './client';

/** A topic to create: the broker's default partitions and replication unless said otherwise. */
export interface NewTopic extends TopicToCreate {
  partitions?: number;
}

/** `SubscriberTransport.ensureTopics` on a @platformatic/kafka admin client (the algorithm is `ensureTopicsWith`'s). */
export function ensureTopics(
  admin: Admin,
  topics: readonly (string | TopicSpec)[],
  options: { connect: () => Promise<void>; leaderTimeoutMs: number },
): Promise<void> {
  return ensureTopicsWith(topicAdmin(admin), topics, { ...options, errors: platformaticErrors });
}

/**
 * Creates the topics (one that exists already, perhaps created meanwhile by another member, is
 * left as it is) and waits until every partition has a leader.
 */
export function createTopicsAndWait(admin: Admin, topics: NewTopic[], leaderTimeoutMs = DEFAULT_LEADER_TIMEOUT_MS): Promise<void> {
  return createTopicsAndWaitWith(topicAdmin(admin), topics, { leaderTimeoutMs, errors: platformaticErrors });
}

/** The few admin calls `ensureTopicsWith` needs, on @platformatic/kafka. */
function topicAdmin(admin: Admin): TopicAdmin<NewTopic> {
  return {
    listTopics: () => admin.listTopics(),
    async createTopics(topics) {
      // One request per topic: the client applies a request's configs to all of its topics.
      await Promise.all(
        topics.map(async ({ topic, partitions, configs }) => {
          try {
            await admin.createTopics({ topics: [topic], partitions: partitions ?? -1, replicas: -1, configs: configs ?? [] });
          } catch (error) {
            if (!protocolErrorIds(error).includes('TOPIC_ALREADY_EXISTS')) throw error;
          }
        }),
      );
    },
    async leaderless(topics) {
      const metadata = await admin.metadata({ topics, forceUpdate: true });
      return topics.filter((topic) => {
        const partitions = metadata.topics.get(topic)?.partitions ?? [];
        return partitions.length === 0 || !partitions.every((p) => p.leader >= 0);
      });
    },
    async maxMessageBytes(topics) {
      const resources = await admin.describeConfigs({
        resources: topics.map((resourceName) => ({ resourceType: ConfigResourceTypes.TOPIC, resourceName, configurationKeys: [MAX_MESSAGE_BYTES] })),
        includeSynonyms: false,
      });
      return resources.map((resource) => ({ topic: resource.resourceName, value: resource.configs.find((entry) => entry.name === MAX_MESSAGE_BYTES)?.value }));
    },
  };
}
