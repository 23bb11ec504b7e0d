import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type IHeaders } from 'kafkajs';
import { createTopicsAndWait } from '@evkit/transport-kafkajs';
import { sleep } from './faults';

// Plain KafkaJS for the suite's own look at the cluster: topics, leaders, committed offsets, and
// reading a topic to its end. Independent of the evkit code under test.

export function kafkaClient(brokers: string[]): Kafka {
  return new Kafka({ clientId: 'evkit-faults', brokers, logLevel: logLevel.NOTHING, connectionTimeout: 3000, requestTimeout: 10_000 });
}

export async function createTopic(
  brokers: string[],
  topic: string,
  options: { partitions?: number; replicationFactor?: number; configs?: Record<string, string> } = {},
): Promise<void> {
  const admin = kafkaClient(brokers).admin();
  await admin.connect();
  try {
    await createTopicsAndWait(admin, [
      {
        topic,
        numPartitions: options.partitions ?? 3,
        ...(options.replicationFactor === undefined ? {} : { replicationFactor: options.replicationFactor }),
        configEntries: Object.entries(options.configs ?? {}).map(([name, value]) => ({ name, value })),
      },
    ]);
  } finally {
    await admin.disconnect();
  }
}

export interface PartitionInfo {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
}

/** Leaders and in-sync replicas; asked again (up to 10 times) while a node is down or paused. */
export async function partitionsOf(brokers: string[], topic: string): Promise<PartitionInfo[]> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 10; attempt += 1) {
    // Another node first each time: the first one may be the one a fault took away.
    const rotated = [...brokers.slice(attempt % brokers.length), ...brokers.slice(0, attempt % brokers.length)];
    const admin = kafkaClient(rotated).admin();
    try {
      await admin.connect();
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      return (topics[0]?.partitions ?? [])
        .map((p) => ({ partition: p.partitionId, leader: p.leader, replicas: p.replicas, isr: p.isr }))
        .sort((a, b) => a.partition - b.partition);
    } catch (error) {
      lastError = error;
      await sleep(1000);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

/** Each partition's end offset, as one comparable text (`0:12,1:9,...`). */
export async function highWatermarks(brokers: string[], topic: string): Promise<string> {
  const admin = kafkaClient(brokers).admin();
  try {
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets
      .sort((a, b) => a.partition - b.partition)
      .map((o) => `${o.partition}:${o.high}`)
      .join(',');
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Committed offset per partition (-1 when none). */
export async function committedOffsets(brokers: string[], groupId: string, topic: string): Promise<Map<number, bigint>> {
  const admin = kafkaClient(brokers).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((offsets[0]?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
  } finally {
    await admin.disconnect();
  }
}

export interface TopicRecord {
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
  timestamp: number;
}

/** Every record of `topic` up to its end as of now, read by a throwaway group (bounded by `timeoutMs`). */
export async function readTopic(brokers: string[], topic: string, timeoutMs = 60_000): Promise<TopicRecord[]> {
  const kafka = kafkaClient(brokers);
  const admin = kafka.admin();
  await admin.connect();
  let ends: Map<number, bigint>;
  try {
    ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
  } finally {
    await admin.disconnect();
  }
  const pending = new Set([...ends].filter(([, high]) => high > 0n).map(([partition]) => partition));
  const records: TopicRecord[] = [];
  if (pending.size === 0) return records;
  const consumer = kafka.consumer({ groupId: `evkit-faults-reader-${randomUUID()}`, maxBytesPerPartition: 8 * 1024 * 1024 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: ({ partition, message }) => {
        if (BigInt(message.offset) >= ends.get(partition)!) return Promise.resolve();
        records.push({
          partition,
          offset: message.offset,
          key: message.key?.toString() ?? null,
          value: message.value,
          headers: textHeaders(message.headers),
          timestamp: Number(message.timestamp),
        });
        if (BigInt(message.offset) + 1n >= ends.get(partition)!) pending.delete(partition);
        return Promise.resolve();
      },
    });
    const deadline = Date.now() + timeoutMs;
    while (pending.size > 0 && Date.now() < deadline) await sleep(100);
    if (pending.size > 0) throw new Error(`reading ${topic}: partitions ${[...pending].join(', ')} not read to their end within ${timeoutMs} ms`);
  } finally {
    await consumer.disconnect();
  }
  return records.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
}

function textHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined || value === null) continue;
    const first = Array.isArray(value) ? value[0] : value;
    out[name] = Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
  }
  return out;
}
