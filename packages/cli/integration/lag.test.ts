import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { run } from '@evkit/cli';
import { createLocalStack } from '@evkit/stack';
import { useCapturedOutput } from '../src/cli-fixtures.test-support';
import { createTopicsAndWait } from '@evkit/transport-kafkajs';

// `evkit lag` against real Kafka: offsets committed for a group, records with known timestamps.
describe('evkit lag', () => {
  const { endpoints } = createLocalStack();
  const brokers = endpoints.kafkaBrokers.join(',');
  const kafka = new Kafka({ brokers: endpoints.kafkaBrokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const output = useCapturedOutput();
  beforeAll(() => admin.connect());
  afterAll(() => admin.disconnect());

  interface LagJson {
    groupId: string;
    state: string;
    partitions: { topic: string; partition: number; committedOffset: string | null; highWatermark: string; offsetLag: number; timeLagMs: number | null; oldestUnhandledAt: string | null }[];
  }

  it('reports offset lag and the age of the oldest unhandled record per partition, for the topics the group committed on', async () => {
    const topic = `evkit.it.lag.${randomUUID()}`;
    const groupId = `evkit-it-lag-${randomUUID()}`;
    await createTopicsAndWait(admin, [{ topic, numPartitions: 2 }]);
    const written = Date.now() - 120_000;
    // Idempotent: a retried send on a topic created a moment ago must not write its records twice.
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({
      topic,
      messages: [
        ...[0, 1, 2, 3, 4].map((i) => ({ partition: 0, value: `p0-${i}`, timestamp: String(written + i * 1000) })),
        ...[0, 1, 2].map((i) => ({ partition: 1, value: `p1-${i}`, timestamp: String(written + i * 1000) })),
      ],
    });
    await producer.disconnect();
    // The group handled two records of partition 0 and all of partition 1.
    await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '2' }, { partition: 1, offset: '3' }] });

    const before = Date.now();
    expect(await run(['lag', groupId, '--brokers', brokers, '--json'])).toBe(0);
    const lag = JSON.parse(output.stdout) as LagJson;
    expect(lag).toMatchObject({ groupId, state: 'Empty' });
    expect(lag.partitions).toEqual([
      { topic, partition: 0, committedOffset: '2', logStartOffset: '0', highWatermark: '5', offsetLag: 3, timeLagMs: expect.any(Number) as unknown, oldestUnhandledAt: new Date(written + 2000).toISOString() },
      { topic, partition: 1, committedOffset: '3', logStartOffset: '0', highWatermark: '3', offsetLag: 0, timeLagMs: 0, oldestUnhandledAt: null },
    ]);
    // The age of record 2 of partition 0, measured when the command read it.
    expect(lag.partitions[0]!.timeLagMs).toBeGreaterThanOrEqual(before - (written + 2000));
    expect(lag.partitions[0]!.timeLagMs).toBeLessThan(Date.now() - (written + 2000) + 1000);

    output.clear();
    expect(await run(['lag', groupId, '--brokers', brokers, '--topics', topic])).toBe(0);
    const lines = output.stdout.trim().split('\n');
    expect(lines[0]).toBe(`group ${groupId}: Empty, 0 member(s)`);
    expect(lines[1]).toMatch(/^TOPIC +PARTITION +COMMITTED +END +LAG +TIME LAG$/);
    expect(lines[2]).toMatch(new RegExp(`^${topic.replace(/\./g, '\\.')} +0 +2 +5 +3 +2m \\d\\ds$`));
    expect(lines.at(-1)).toMatch(/^total lag 3 record\(s\); oldest unhandled record 2m \d\ds old$/);

    // The throwaway groups that read the timestamps are gone.
    const { groups } = await admin.listGroups();
    expect(groups.filter((g) => g.groupId.startsWith('evkit-lag.'))).toEqual([]);
  }, 90_000);

  it('shows nothing for a group without commits, and exits 2 for a topic that does not exist', async () => {
    const groupId = `evkit-it-lag-${randomUUID()}`;
    expect(await run(['lag', groupId, '--brokers', brokers, '--json'])).toBe(0);
    expect(JSON.parse(output.stdout)).toMatchObject({ groupId, state: 'Dead', members: 0, partitions: [] });
    output.clear();
    expect(await run(['lag', groupId, '--brokers', brokers, '--topics', `evkit.it.lag.missing.${randomUUID()}`])).toBe(2);
    expect(output.stderr).toMatch(/EVKIT_CLI_USAGE: no such topic: evkit\.it\.lag\.missing\./);
  }, 30_000);
});
