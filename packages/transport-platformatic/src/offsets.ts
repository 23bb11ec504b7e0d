import type { Admin } from '@platformatic/kafka';
import { TransportConnectError, TransportOffsetsError, type PartitionOffsets } from '@evkit/transport';
import { isRetriable, messageOf } from './client';

/** Kafka's ListOffsets timestamp for "the end of the log" (the high watermark). */
const LATEST = -1n;
/** READ_UNCOMMITTED: the high watermark itself, not the last stable offset. */
const READ_UNCOMMITTED = 0;

/** `SubscriberTransport.offsets`: any group's committed offsets and the partitions' high watermarks. */
export async function readOffsets(admin: Admin, connect: () => Promise<void>, groupId: string, topics: readonly string[]): Promise<PartitionOffsets[]> {
  try {
    await connect();
    const metadata = await admin.metadata({ topics: [...topics] });
    const partitionsOf = (topic: string) => Array.from({ length: metadata.topics.get(topic)?.partitionsCount ?? 0 }, (_, i) => i);
    const [groups, listed] = await Promise.all([
      admin.listConsumerGroupOffsets({ groups: [{ groupId, topics: topics.map((name) => ({ name, partitionIndexes: partitionsOf(name) })) }] }),
      admin.listOffsets({
        topics: topics.map((name) => ({ name, partitions: partitionsOf(name).map((partitionIndex) => ({ partitionIndex, timestamp: LATEST })) })),
        isolationLevel: READ_UNCOMMITTED,
      }),
    ]);
    const committed = new Map<string, bigint>();
    for (const group of groups) {
      for (const topic of group.topics) for (const p of topic.partitions) committed.set(`${p.partitionIndex}:${topic.name}`, p.committedOffset);
    }
    const highWatermarks = new Map<string, bigint>();
    for (const topic of listed) for (const p of topic.partitions) highWatermarks.set(`${p.partitionIndex}:${topic.name}`, p.offset);
    return topics.flatMap((topic) =>
      partitionsOf(topic).map((partition): PartitionOffsets => {
        const done = committed.get(`${partition}:${topic}`);
        return {
          topic,
          partition,
          committed: done === undefined || done < 0n ? '-1' : done.toString(),
          highWatermark: (highWatermarks.get(`${partition}:${topic}`) ?? 0n).toString(),
        };
      }),
    );
  } catch (error) {
    if (error instanceof TransportConnectError) throw new TransportOffsetsError(error.message, { cause: error, retriable: error.retriable });
    throw new TransportOffsetsError(`offsets of group ${groupId} on ${topics.join(', ')} could not be read: ${messageOf(error)}`, {
      cause: error,
      retriable: isRetriable(error),
    });
  }
}
