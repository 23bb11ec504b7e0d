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

/**
 * Schema ids an attacker can point a record at, registered by anyone: FaultStep with an array or
 * map field more (the consumer's reader schema skips it, avsc's skipping path), and a bare map.
 */
interface HostileSchemas {
  stepWithArrayOfNull: number;
  stepWithMapOfString: number;
  mapOfString: number;
}

interface BadRecord {
  name: string;
  /** The evkit error code its dead-letter record must carry; undefined: any evkit code. */
  expectedCode?: string;
  /** When the code may be any of several (e.g. any codec refusal), its prefix. */
  expectedCodePrefix?: string;
  /** Written to the source topic's first retry tier instead, as a forger of bookkeeping would. */
  onRetryTier?: boolean;
  /** Handled like a good event instead of dead-lettered (its bookkeeping is bounded, not refused). */
  handled?: boolean;
  build(good: { value: Buffer; headers: Record<string, string | Buffer> }, context: { hostile: HostileSchemas; sourceTopic: string }): { value: Buffer; headers: Record<string, string | Buffer> };
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

/** The Confluent wire format around hand-made Avro bytes. */
const wire = (schemaId: number, avro: readonly number[]) => {
  const header = Buffer.alloc(5);
  header.writeInt32BE(schemaId, 1);
  return Buffer.concat([header, Buffer.from(avro)]);
};

/** Avro's zig-zag varint of a non-negative count. */
const varint = (n: number): number[] => {
  const bytes: number[] = [];
  for (let rest = n * 2; ; rest = Math.floor(rest / 128)) {
    if (rest < 128) return [...bytes, rest];
    bytes.push((rest % 128) | 0x80);
  }
};

const YEAR_MS = 365 * 24 * 3600 * 1000;

// 9c: what issue #13 found, sent as an attacker would. Before the bounded decode, the first
// three hung the consumer's event loop or aborted Node; the forged bookkeeping stalled the
// partition for good.
const HOSTILE_RECORDS: BadRecord[] = [
  {
    name: 'array-of-null-count-1e9-skipped-by-the-reader',
    expectedCodePrefix: 'EVKIT_CODEC_',
    build: (g, { hostile: h }) => ({ ...g, value: wire(h.stepWithArrayOfNull, [...g.value.subarray(5), ...varint(1e9)]) }),
  },
  {
    name: 'map-count-1e15-skipped-by-the-reader',
    expectedCodePrefix: 'EVKIT_CODEC_',
    build: (g, { hostile: h }) => ({ ...g, value: wire(h.stepWithMapOfString, [...g.value.subarray(5), ...varint(1e15)]) }),
  },
  {
    name: 'structured-map-count-1e15',
    expectedCodePrefix: 'EVKIT_CODEC_',
    build: (_g, { hostile: h }) => ({ value: wire(h.mapOfString, varint(1e15)), headers: { 'content-type': 'application/cloudevents+avro' } }),
  },
  { name: 'ce-id-not-utf8', expectedCode: 'EVKIT_ENVELOPE_MALFORMED_RECORD', build: (g) => ({ ...g, headers: { ...g.headers, ce_id: Buffer.from([0xff, 0xfe, 0x41]) } }) },
  { name: 'ce-time-1MiB', expectedCode: 'EVKIT_ENVELOPE_MALFORMED_RECORD', build: (g) => ({ ...g, headers: { ...g.headers, ce_time: '2'.repeat(1024 * 1024) } }) },
  { name: 'retry-header-on-the-source-topic', expectedCode: 'EVKIT_RETRY_MALFORMED_HEADERS', build: (g) => ({ ...g, headers: { ...g.headers, 'evkit_retry-original-offset': 'twelve' } }) },
  { name: 'retry-offset-not-a-number', expectedCode: 'EVKIT_RETRY_MALFORMED_HEADERS', onRetryTier: true, build: (g, { sourceTopic }) => forgedRetry(g, sourceTopic, { 'evkit_retry-original-offset': 'twelve' }) },
  { name: 'retry-first-failure-invalid', expectedCode: 'EVKIT_RETRY_MALFORMED_HEADERS', onRetryTier: true, build: (g, { sourceTopic }) => forgedRetry(g, sourceTopic, { 'evkit_retry-first-failure': 'not a time' }) },
  { name: 'retry-partition-out-of-range', expectedCode: 'EVKIT_RETRY_MALFORMED_HEADERS', onRetryTier: true, build: (g, { sourceTopic }) => forgedRetry(g, sourceTopic, { 'evkit_retry-original-partition': '99999999999' }) },
  // Well-formed but a year ahead: waits the tier's delay at most, then is handled.
  { name: 'retry-not-before-a-year-ahead', handled: true, onRetryTier: true, build: (g, { sourceTopic }) => forgedRetry(g, sourceTopic, { 'evkit_retry-not-before': String(Date.now() + YEAR_MS) }) },
];

/** A complete set of retry bookkeeping, as routing writes it, with `forged` over it. */
function forgedRetry(good: { value: Buffer; headers: Record<string, string | Buffer> }, sourceTopic: string, forged: Record<string, string>) {
  return {
    ...good,
    headers: {
      ...good.headers,
      'evkit_retry-attempt': '1',
      'evkit_retry-not-before': String(Date.now()),
      'evkit_retry-original-topic': sourceTopic,
      'evkit_retry-original-partition': '0',
      'evkit_retry-original-offset': '0',
      'evkit_retry-original-timestamp': String(Date.now()),
      'evkit_retry-first-failure': String(Date.now()),
      ...forged,
    },
  };
}

/** Registers the schemas a hostile producer points its records at, as any client of the registry can. */
async function registerHostileSchemas(registryUrl: string, run: string): Promise<HostileSchemas> {
  const register = async (name: string, schema: object): Promise<number> => {
    const response = await fetch(`${registryUrl}/subjects/faults-hostile-${run}-${name}/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema: JSON.stringify(schema) }),
    });
    if (!response.ok) throw new Error(`registering ${name}: ${response.status} ${await response.text()}`);
    return ((await response.json()) as { id: number }).id;
  };
  const stepWith = (type: object) => ({ ...STEP_SCHEMA, fields: [...STEP_SCHEMA.fields, { name: 'extra', type }] });
  return {
    stepWithArrayOfNull: await register('StepWithArrayOfNull', stepWith({ type: 'array', items: 'null' })),
    stepWithMapOfString: await register('StepWithMapOfString', stepWith({ type: 'map', values: 'string' })),
    mapOfString: await register('MapOfString', { type: 'record', name: 'MapOfString', namespace: 'dev.evkit.faults.hostile', fields: [{ name: 'f', type: { type: 'map', values: 'string' } }] }),
  };
}

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

scenario('9c', 'hostile records (huge Avro counts, forged retry headers, bad UTF-8) are dead-lettered, the partition keeps moving', { quick: true, timeoutMs: 300_000 }, () =>
  runBadRecords('9c', `Hostile records (${HOSTILE_RECORDS.length} kinds) between good events of one partition`, HOSTILE_RECORDS, 90_000),
);

const RETRY_DELAY_MS = 200;

async function runBadRecords(id: string, title: string, badRecords: readonly BadRecord[], drainTimeoutMs: number): Promise<void> {
  // Forged bookkeeping goes to a retry tier, which only non-blocking routing has.
  const mode = badRecords.some((bad) => bad.onRetryTier) ? 'non-blocking' : 'blocking';
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
    member = await startLocalMember(memberSpec(names, 'm1', { routing: { mode, maxAttempts: 2, delaysMs: [RETRY_DELAY_MS] } }));
    await raw.connect();
    const hostile = await registerHostileSchemas(single.endpoints.registryUrl, names.run);
    // Good events on four keys; the bad records go to the partition of k-0, between its events.
    const keys = ['k-0', 'k-1', 'k-2', 'k-3'];
    const partition = partitionForKey('k-0', PARTITIONS);
    const publish = async (key: string, seq: number) => {
      const step: Step = { run: names.run, key, seq, uid: newEventId() };
      const { position } = await producer.publish(names.topic, { id: step.uid, type: STEP_TYPE, key, data: step });
      acked.push({ ...step, partition: position.partition, offset: position.offset, at: Date.now() });
    };
    let seq = 0;
    for (const bad of badRecords) {
      for (let i = 0; i < 5; i += 1, seq += 1) for (const key of keys) await publish(key, seq);
      const template = await codec.encode(
        names.topic,
        createEvent({ id: randomUUID(), source: '/evkit-faults', type: STEP_TYPE, partitionkey: 'k-0', data: { run: names.run, key: 'bad', seq: -1, uid: bad.name } }),
        STEP_SCHEMA,
      );
      const record = bad.build({ value: template.value!, headers: template.headers as Record<string, string | Buffer> }, { hostile, sourceTopic: names.topic });
      const headers = { ...record.headers, 'faults-bad': bad.name };
      // A retry tier is evkit's own topic: written as a forger would, with no partition chosen.
      if (bad.onRetryTier) await raw.send({ topic: `${names.topic}.${names.groupId}.retry.${RETRY_DELAY_MS}`, acks: -1, messages: [{ key: 'k-0', value: record.value, headers }] });
      else await raw.send({ topic: names.topic, acks: -1, messages: [{ partition, key: 'k-0', value: record.value, headers }] });
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
      if (bad.handled) {
        const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM faults_effects WHERE run = $1 AND uid = $2', [names.run, bad.name]);
        notes.push(`${bad.name} → handled ${rows[0]?.n ?? 0} time(s)${entry ? ', and dead-lettered' : ''}`);
        if (rows[0]?.n !== 1 || entry) extraFailures.push(`${bad.name} should be handled once and not dead-lettered`);
        continue;
      }
      if (!entry) {
        extraFailures.push(`${bad.name} is not in the dead-letter topic`);
        continue;
      }
      const code = entry.headers['evkit_dlt-error-code'];
      const reason = entry.headers['kafka_dlt-exception-message'];
      notes.push(`${bad.name} → ${code ?? 'no code'}: ${(reason ?? 'no reason').slice(0, 110)}`);
      if (!code || !reason) extraFailures.push(`${bad.name} was dead-lettered without a reason`);
      if (bad.expectedCode && code !== bad.expectedCode) extraFailures.push(`${bad.name} dead-lettered as ${code}, expected ${bad.expectedCode}`);
      if (bad.expectedCodePrefix && !code?.startsWith(bad.expectedCodePrefix)) extraFailures.push(`${bad.name} dead-lettered as ${code}, expected ${bad.expectedCodePrefix}…`);
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
    await producer.close().catch(() => undefined);
    await raw.disconnect().catch(() => undefined);
    await member?.stop();
  }
}
