import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { run } from '@evkit/cli';
import { createFailureRouting } from '@evkit/retry';
import { createLocalStack } from '@evkit/stack';
import { createKafkaJsPublisher } from '@evkit/transport-kafkajs';

// `evkit dlq list|show|replay` against real Kafka, on records dead-lettered by the routing itself.
describe('evkit dlq', () => {
  const { endpoints } = createLocalStack();
  const brokers = endpoints.kafkaBrokers.join(',');
  const publisher = createKafkaJsPublisher({ brokers: endpoints.kafkaBrokers, logLevel: logLevel.NOTHING });
  const kafka = new Kafka({ brokers: endpoints.kafkaBrokers, logLevel: logLevel.NOTHING });
  let stdout: string[];
  beforeEach(() => {
    stdout = [];
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => stdout.push(String(chunk)) > 0);
    jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => jest.restoreAllMocks());
  afterAll(() => publisher.disconnect());

  it('lists (with the message), groups, parks and replays dead-lettered records to their group; a second replay sends nothing', async () => {
    const source = `evkit.it.cli.${randomUUID()}`;
    const groupId = 'cli-it';
    const routing = createFailureRouting({ publisher, groupId });
    const dlq = routing.deadLetterTopic(source);
    const failed = (key: string, offset: string) => ({
      topic: source, partition: 0, offset, timestamp: Date.now(), key: Buffer.from(key), value: Buffer.from(`value-${key}`),
      headers: { ce_type: Buffer.from('dev.evkit.it.thing'), ce_id: Buffer.from(`id-${key}`) },
    });
    await routing.deadLetter(failed('a', '0'), Object.assign(new Error('boom'), { code: 'EVKIT_TEST_A' }), { groupId, reason: 'handler', handler: 'dev.evkit.it.thing', attempts: 4 });
    await routing.deadLetter(failed('b', '1'), new Error('bang'), { groupId, reason: 'handler', handler: 'dev.evkit.it.thing', attempts: 4 });

    expect(await run(['dlq', 'list', dlq, '--brokers', brokers, '--json'])).toBe(0);
    const listed = JSON.parse(stdout.join('')) as { key: string; errorCode?: string; attempts: number; original: { topic: string; offset: string } }[];
    expect(listed.map((e) => e.key).sort()).toEqual(['a', 'b']);
    expect(listed.find((e) => e.key === 'a')).toMatchObject({ errorCode: 'EVKIT_TEST_A', attempts: 4, original: { topic: source, offset: '0' } });

    stdout = [];
    expect(await run(['dlq', 'list', dlq, '--brokers', brokers])).toBe(0);
    expect(stdout.join('')).toContain('error=Error: bang');

    stdout = [];
    expect(await run(['dlq', 'list', dlq, '--brokers', brokers, '--json', '--code', 'EVKIT_TEST_A'])).toBe(0);
    expect((JSON.parse(stdout.join('')) as unknown[]).length).toBe(1);

    stdout = [];
    expect(await run(['dlq', 'groups', dlq, '--brokers', brokers, '--json'])).toBe(0);
    expect(JSON.parse(stdout.join(''))).toEqual([
      expect.objectContaining({ errorCode: 'EVKIT_TEST_A', eventType: 'dev.evkit.it.thing', count: 1, sampleMessage: 'boom' }),
      expect.objectContaining({ errorClass: 'Error', eventType: 'dev.evkit.it.thing', count: 1, sampleMessage: 'bang' }),
    ]);

    const replayTopic = `${source}.${groupId}.replay`;
    stdout = [];
    expect(await run(['dlq', 'replay', dlq, '--brokers', brokers, '--dry-run', '--json'])).toBe(0);
    expect(JSON.parse(stdout.join(''))).toMatchObject({ dryRun: true, matched: 2, replayed: 0, destinations: { [replayTopic]: 2 } });

    stdout = [];
    expect(await run(['dlq', 'park', dlq, '--brokers', brokers, '--code', 'EVKIT_TEST_A', '--reason', 'test data', '--dry-run', '--json'])).toBe(0);
    expect(JSON.parse(stdout.join(''))).toMatchObject({ dryRun: true, matched: 1, parked: 0 });
    stdout = [];
    expect(await run(['dlq', 'park', dlq, '--brokers', brokers, '--code', 'EVKIT_TEST_A', '--reason', 'test data', '--json'])).toBe(0);
    expect(JSON.parse(stdout.join(''))).toMatchObject({ matched: 1, parked: 1, parkedTopic: `${source}.${groupId}.parked` });
    expect(await run(['dlq', 'park', dlq, '--brokers', brokers])).toBe(2); // --reason is required

    stdout = [];
    expect(await run(['dlq', 'replay', dlq, '--brokers', brokers, '--json'])).toBe(0);
    expect(JSON.parse(stdout.join(''))).toMatchObject({ matched: 1, replayed: 1, destinations: { [replayTopic]: 1 } });
    stdout = [];
    expect(await run(['dlq', 'replay', dlq, '--brokers', brokers, '--json'])).toBe(0);
    expect(JSON.parse(stdout.join(''))).toMatchObject({ matched: 0, replayed: 0 });

    const admin = kafka.admin();
    await admin.connect();
    const high = async (topic: string) => (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
    // Nothing went back to the source topic, which every group reads: one record to the group's replay topic, one parked.
    expect(await high(replayTopic)).toBe(1);
    expect(await high(`${source}.${groupId}.parked`)).toBe(1);
    expect((await admin.listTopics()).includes(source)).toBe(false);
    await admin.disconnect();

    expect(await run(['dlq', 'show', dlq, '0', '999', '--brokers', brokers])).toBe(2);
  }, 90_000);
});
