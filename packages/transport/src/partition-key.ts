import type { TopicPartition } from './transport';

/**
 * `topic:partition`: the one string key of a partition, wherever evkit keys a map or a set by
 * partition (consumer state, lag, the in-memory broker, the CLI). Kafka topic names cannot hold
 * `:` (only `[a-zA-Z0-9._-]`), so the key splits back without ambiguity.
 */
export function partitionKeyOf(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

/** The topic and partition of a `partitionKeyOf` key. */
export function topicPartitionOf(key: string): TopicPartition {
  const at = key.lastIndexOf(':');
  return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)) };
}
