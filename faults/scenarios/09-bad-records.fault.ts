import { randomBytes, randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { createEvent, newEventId } from '@evkit/envelope';
import { partitionForKey } from '@evkit/transport';
import { assertPassed, check, drain } from '../support/checker';
import { checkerPool, memberSpec, namesFor, scenario, single, stepProducer, upSingle } from '../support/harness';
import { createTopic, kafkaClient, readTopic } from '../support/kafka';
import type { Ack } from '../support/load';
import { memberLogFile, startLocalMember } from '../support/member';
import { createStepCodec, STEP_SCHEMA, STEP_TYPE, type MemberHandle, type Step } from '../support/workload';

// 9. Bad records on the topic, between good events of the same partition: a value that is not
// in the wire format, an unknown schema id, truncated Avro, invalid CloudEvent headers, and a
// record larger than the broker's default limit (the topic allows it). Each must reach the
// dead-letter topic with a reason; the partition must keep moving (every good event handled,
// in order).

const PARTITIONS = 3;
const OVERSIZED_BYTES = 1_500_000;

interface BadRecord {
  name: string;
  /** The evkit error code its dead-letter record must carry; undefined: any evkit code. */
  expectedCode?: string;
  build(good: { value: Buffer; headers: Record<string, string | Buffer> }): { value: Buffer; headers: Record<string, string | Buffer> };
}

const BAD_RECORDS: BadRecord[] = [
  { name: 'bad-magic-byte', expectedCode: 'EVKIT_CODEC_BAD_MAGIC_BYTE', build: (g) => ({ ...g, value: Buffer.from('{"json":"not the wire format"}') }) },
  {
    name: 'unknown-schema-id',
    expectedCode: 'EVKIT_CODEC_UNKNOWN_SCHEMA_ID',
    build: (g) => ({ ...g, value: Buffer.concat([Buffer.from([0, 0x7f, 0xff, 0xff, 0x00]), g.value.subarray(5)]) }),
  },
  { name: 'truncated-avro', expectedCode: 'EVKIT_CODEC_CORRUPT_PAYLOAD', build: (g) => ({ ...g, value: g.value.subarray(0, g.value.length - 3) }) },
  { name: 'ce-specversion-0.3', build: (g) => ({ ...g, headers: { ...g.headers, ce_specversion: '0.3' } }) },
  {
    name: 'ce-id-missing',
    build: (g) => {
      const { ce_id: _dropped, ...headers } = g.headers;
      return { ...g, headers };
    },
  },
  { name: 'ce-time-not-rfc3339', build: (g) => ({ ...g, headers: { ...g.headers, ce_time: 'yesterday at noon' } }) },
];

/** Larger than the broker's default max.message.bytes (1 MiB); its topic allows 4 MiB. */
const OVERSIZED: BadRecord = {
  name: `oversized-${(OVERSIZED_BYTES / 1e6).toFixed(1)}MB`,
  expectedCode: 'EVKIT_CODEC_CORRUPT_PAYLOAD',
  build: (g) => ({ ...g, value: Buffer.concat([g.value.subarray(0, 5), randomBytes(OVERSIZED_BYTES)]) }),
};

let pool: Pool;
beforeAll(async () => {
  await upSingle();
  pool = checkerPool();
}, 300_000);
afterAll(async () => {
  await pool?.end();
});

scenario('9a', 'bad records are dead-lettered with a reason, the partition keeps moving', { quick: true, timeoutMs: 300_000 }, () =>
  runBadRecords('9a', `Bad records (${BAD_RECORDS.length} kinds) between good events of one partition`, BAD_RECORDS, 90_000),
);

scenario('9b', 'an oversized bad record is dead-lettered, the partition keeps moving', { quick: true, timeoutMs: 300_000 }, () =>
  runBadRecords('9b', `Oversized bad record (${(OVERSIZED_BYTES / 1e6).toFixed(1)} MB, topic limit 4 MiB)`, [OVERSIZED], 20_000),
);

async function runBadRecords(id: string, title: string, badRecords: readonly BadRecord[], drainTimeoutMs: number): Promise<void> {
  const startedAt = Date.now();
  const names = namesFor(id);
  const brokers = single.endpoints.kafkaBrokers;
  // The topic accepts the oversized record (4 MiB); the dead-letter topic is left to evkit.
  await createTopic(brokers, names.topic, { partitions: PARTITIONS, configs: { 'max.message.bytes': String(4 * 1024 * 1024) } });
  let member: MemberHandle | undefined;
  const producer = stepProducer({ brokers, logFile: memberLogFile(names.run, 'producer') });
  const raw = kafkaClient(brokers).producer({ allowAutoTopicCreation: false });
  const codec = createStepCodec(single.endpoints.registryUrl);
  const acked: Ack[] = [];
  const notes: string[] = [];
  const extraFailures: string[] = [];
  try {
    member = await startLocalMember(memberSpec(names, 'm1', { routing: { mode: 'blocking', maxAttempts: 2, delaysMs: [200] } }));
    await Promise.all([producer.connect(), raw.connect()]);
    // Good events on four keys; the bad records go to the partition of k-0, between its events.
    const keys = ['k-0', 'k-1', 'k-2', 'k-3'];
    const partition = partitionForKey('k-0', PARTITIONS);
    const publish = async (key: string, seq: number) => {
      const step: Step = { run: names.run, key, seq, uid: newEventId() };
      const { position } = await producer.publish(names.topic, { id: step.uid, type: STEP_TYPE, partitionkey: key, data: step }, STEP_SCHEMA);
      acked.push({ ...step, partition: position.partition, offset: position.offset, at: Date.now() });
    };
    let seq = 0;
    for (const bad of badRecords) {
      for (let i = 0; i < 5; i += 1, seq += 1) for (const key of keys) await publish(key, seq);
      const template = await codec.encode(
        names.topic,
        createEvent({ id: randomUUID(), source: '/evkit-faults', type: STEP_TYPE, partitionkey: 'k-0', data: { run: names.run, key: 'bad', seq: -1, uid: 'bad' } }),
        STEP_SCHEMA,
      );
      const record = bad.build({ value: template.value!, headers: template.headers as Record<string, string | Buffer> });
      await raw.send({ topic: names.topic, acks: -1, messages: [{ partition, key: 'k-0', value: record.value, headers: { ...record.headers, 'faults-bad': bad.name } }] });
    }
    for (let i = 0; i < 5; i += 1, seq += 1) for (const key of keys) await publish(key, seq);

    const dlqTopic = `${names.topic}.${names.groupId}.dlq`;
    let dlq: Awaited<ReturnType<typeof readTopic>> = [];
    const deadLettered = () => new Set(dlq.map((r) => r.headers['faults-bad']).filter((n): n is string => n !== undefined));
    const truth = { acked };
    const drained = await drain(pool, names.run, truth, { timeoutMs: drainTimeoutMs });
    if (!drained) notes.push('good events after a bad record were not all handled: the partition stopped');
    dlq = await readTopic(brokers, dlqTopic).catch(() => []);
    for (const bad of badRecords) {
      const entry = dlq.find((r) => r.headers['faults-bad'] === bad.name);
      if (!entry) {
        extraFailures.push(`${bad.name} is not in the dead-letter topic`);
        continue;
      }
      const code = entry.headers['evkit_dlt-error-code'];
      const reason = entry.headers['kafka_dlt-exception-message'];
      notes.push(`${bad.name} → ${code ?? 'no code'}: ${(reason ?? 'no reason').slice(0, 110)}`);
      if (!code || !reason) extraFailures.push(`${bad.name} was dead-lettered without a reason`);
      if (bad.expectedCode && code !== bad.expectedCode) extraFailures.push(`${bad.name} dead-lettered as ${code}, expected ${bad.expectedCode}`);
      if (bad.name.startsWith('oversized') && (entry.value?.length ?? 0) < OVERSIZED_BYTES) {
        extraFailures.push(`${bad.name} was dead-lettered without its bytes (${entry.value?.length ?? 0} bytes)`);
      }
    }
    const strays = dlq.filter((r) => r.headers['faults-bad'] === undefined).length;
    if (strays > 0) extraFailures.push(`${strays} good event(s) dead-lettered`);
    const figures = await check({
      scenario: id,
      title,
      pool,
      run: names.run,
      truth,
      group: { brokers, groupId: names.groupId, topic: names.topic },
      orderPromised: true,
      startedAt,
      notes,
      extraFailures,
      extraDeadLettered: deadLettered().size,
    });
    assertPassed(figures);
  } finally {
    await producer.disconnect().catch(() => undefined);
    await raw.disconnect().catch(() => undefined);
    await member?.stop();
  }
}
