import { randomUUID } from 'node:crypto';
import { createLocalStack } from '@evkit/stack';
import type { Logger, LogFields } from '@evkit/telemetry';
import { createKafkaJsPublisher, createKafkaJsSubscriber } from '@evkit/transport-kafkajs';

// KafkaJS's own lines through evkit's logger on a healthy run: the first publish to a topic that
// does not exist yet (auto-created, its metadata answering UNKNOWN_TOPIC_OR_PARTITION or
// LEADER_NOT_AVAILABLE at first) and a new group joining it leave no warn or error line.
const { endpoints } = createLocalStack();
const brokers = endpoints.kafkaBrokers;
const fastGroup = { sessionTimeout: 6_000, heartbeatInterval: 500, rebalanceTimeout: 10_000, maxWaitTimeInMs: 100 };

describe('KafkaJS logs through an evkit logger', () => {
  it('has no warn or error line on a healthy publish and consume of a new topic', async () => {
    const lines: { level: keyof Logger; message: string; fields?: LogFields }[] = [];
    const at = (level: keyof Logger) => (message: string, fields?: LogFields) => void lines.push({ level, message, ...(fields && { fields }) });
    const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
    const topic = `evkit.it.kafkajs-log.${randomUUID()}`;

    const publisher = createKafkaJsPublisher({ brokers, clientId: 'evkit-it-log', logger });
    await publisher.send([{ topic, key: 'k', value: Buffer.from('v'), headers: {} }]);
    await publisher.disconnect();

    const subscriber = createKafkaJsSubscriber({ brokers, clientId: 'evkit-it-log', logger, ...fastGroup });
    let received!: () => void;
    const done = new Promise<void>((resolve) => (received = resolve));
    await subscriber.run({
      groupId: `evkit-it-log-${randomUUID()}`,
      topics: [topic],
      fromBeginning: true,
      async handleBatch(batch) {
        const last = batch.records.at(-1)!;
        await subscriber.commit({ topic: batch.topic, partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() });
        received();
      },
    });
    await done;
    await subscriber.disconnect();

    expect(lines.filter((line) => line.level === 'warn' || line.level === 'error')).toEqual([]);
    // What KafkaJS did log at error or warn level is still there, at debug.
    expect(lines.filter((line) => line.level === 'debug').every((line) => line.message.startsWith('KafkaJS') && line.fields?.source === 'kafkajs')).toBe(true);
  }, 60_000);
});
