import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, Partitioners, type KafkaMessage } from 'kafkajs';
import { createLocalStack } from '@evkit/stack';

// Proves KafkaJS 2.2.4 against the stack's Kafka 4.1 broker (KIP-896 removed old protocol
// versions in 4.0): admin, idempotent produce, group consume, offset commit and fetch.
describe('KafkaJS 2.2.4 against the local Kafka 4.1 broker', () => {
  const { endpoints } = createLocalStack();
  const kafka = new Kafka({ clientId: 'evkit-it-kafka', brokers: endpoints.kafkaBrokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const topic = `evkit.it.kafka.${randomUUID()}`;

  beforeAll(async () => {
    await admin.connect();
    // Without waitForLeaders, which gives up on a loaded Kafka 4 (see @evkit/transport-kafkajs's
    // createTopicsAndWait); the calls below retry until the new topic's metadata has spread.
    expect(await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] })).toBe(true);
  });
  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();
  });

  it('creates topics with the asked partition count', async () => {
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(metadata.topics[0]?.partitions).toHaveLength(3);
  });

  it('round-trips keyed records through an idempotent producer and a consumer group, and commits offsets', async () => {
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    const sent = Array.from({ length: 30 }, (_, i) => ({ key: `order-${i % 5}`, value: `v${i}`, headers: { seq: String(i) } }));
    const acks = await producer.send({ topic, acks: -1, messages: sent });
    await producer.disconnect();
    expect(acks.every((a) => a.errorCode === 0)).toBe(true);

    const groupId = `evkit-it-${randomUUID()}`;
    const consumer = kafka.consumer({ groupId });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received: { partition: number; message: KafkaMessage }[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${received.length} of 30 records within 30 s`)), 30_000);
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            received.push({ partition, message });
            await consumer.commitOffsets([{ topic, partition, offset: (Number(message.offset) + 1).toString() }]);
            if (received.length === sent.length) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();

    // Same key, same partition, in send order.
    const byKey = new Map<string, { partition: number; seq: number[] }>();
    for (const { partition, message } of received) {
      const key = message.key!.toString();
      const entry = byKey.get(key) ?? { partition, seq: [] };
      expect(entry.partition).toBe(partition);
      entry.seq.push(Number(message.headers!.seq!.toString()));
      byKey.set(key, entry);
    }
    expect(byKey.size).toBe(5);
    for (const { seq } of byKey.values()) expect(seq).toEqual([...seq].sort((a, b) => a - b));

    const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
    const total = committed[0]!.partitions.reduce((sum, p) => sum + Number(p.offset), 0);
    expect(total).toBe(sent.length);
  });
});
