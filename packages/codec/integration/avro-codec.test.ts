import { randomUUID } from 'node:crypto';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { createEvent, type KafkaRecord } from '@evkit/envelope';
import {
  createAvroCodec,
  createRegistryClient,
  CompatibilityTooWeakError,
  IncompatibleSchemaError,
  RegistryUnavailableError,
  SchemaNotRegisteredError,
  UnknownSchemaIdError,
  wireHeader,
} from '@evkit/codec';
import { createLocalStack } from '@evkit/stack';

const { endpoints } = createLocalStack();
const registryOptions = { url: endpoints.registryUrl };

const record = (name: string, fields: object[]) => ({ type: 'record', name, namespace: 'dev.evkit.it', fields });
const v1 = record('PaymentTaken', [
  { name: 'paymentId', type: 'string' },
  { name: 'amountCents', type: 'long' },
]);
const v2 = record('PaymentTaken', [
  { name: 'paymentId', type: 'string' },
  { name: 'amountCents', type: 'long' },
  { name: 'method', type: 'string', default: 'card' },
]);
// Reads v2 data but not v1 data: only a transitive check catches it.
const v3 = record('PaymentTaken', [
  { name: 'paymentId', type: 'string' },
  { name: 'amountCents', type: 'long' },
  { name: 'method', type: 'string' },
]);

const event = (data: object) =>
  createEvent({ source: '/payments', type: 'dev.evkit.it.payment.taken', partitionkey: 'p-1', correlationid: 'corr-1', data });

const uniqueTopic = () => `evkit.it.codec.${randomUUID()}`;
// The codec's default subject naming: topic-record.
const subjectOf = (topic: string) => `${topic}-dev.evkit.it.PaymentTaken`;

describe('Avro codec against Apicurio Registry and Kafka', () => {
  const kafka = new Kafka({ clientId: 'evkit-it-codec', brokers: endpoints.kafkaBrokers, logLevel: logLevel.NOTHING });
  const rest = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${endpoints.registryUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return (await response.json());
  };

  it('publishes through Kafka and reads back exactly, in both binding modes', async () => {
    for (const mode of ['binary', 'structured'] as const) {
      const topic = uniqueTopic();
      const codec = createAvroCodec({ registry: registryOptions, mode });
      const sent = event({ paymentId: 'p-1', amountCents: 700 });
      const out = await codec.encode(topic, sent, v1);
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      await producer.send({ topic, acks: -1, messages: [out] });
      await producer.disconnect();

      const received = await consumeOne(kafka, topic);
      const decoded = await createAvroCodec({ registry: registryOptions }).decode(received);
      expect(decoded.mode).toBe(mode);
      expect(decoded.event).toEqual(mode === 'binary' ? { ...sent, datacontenttype: 'application/avro' } : sent);
    }
  });

  it('writes values any Confluent-compatible Avro deserializer reads', async () => {
    const codec = createAvroCodec({ registry: registryOptions });
    const out = await codec.encode(uniqueTopic(), event({ paymentId: 'p-2', amountCents: 1 }), v1);
    const confluent = new SchemaRegistry({ host: endpoints.registryUrl });
    expect(await confluent.decode(out.value!)).toEqual({ paymentId: 'p-2', amountCents: 1 });
  });

  it('sets BACKWARD_TRANSITIVE on a new subject and refuses a breaking schema before any byte reaches Kafka', async () => {
    const topic = uniqueTopic();
    const codec = createAvroCodec({ registry: registryOptions });
    await codec.prepare(topic, v1);
    await codec.prepare(topic, v2);
    expect(await rest('GET', `/config/${subjectOf(topic)}`)).toEqual({ compatibilityLevel: 'BACKWARD_TRANSITIVE' });

    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const publish = async () => {
      const out = await codec.encode(topic, event({ paymentId: 'p-3', amountCents: 2, method: 'cash' }), v3);
      await producer.send({ topic, messages: [out] });
    };
    const attempt = publish();
    await expect(attempt).rejects.toBeInstanceOf(IncompatibleSchemaError);
    // v3 reads v2 data; only version 1 is broken, and the reason names the field.
    await expect(attempt).rejects.toMatchObject({ subject: subjectOf(topic), incompatible: [expect.objectContaining({ version: 1 })] });
    await expect(attempt).rejects.toThrow(/method/);
    await producer.disconnect();

    const admin = kafka.admin();
    await admin.connect();
    const topics = await admin.listTopics();
    await admin.disconnect();
    expect(topics).not.toContain(topic);
    expect(await rest('GET', `/subjects/${subjectOf(topic)}/versions`)).toEqual([1, 2]);
  });

  it('shares one registration among concurrent first uses', async () => {
    const topic = uniqueTopic();
    const codec = createAvroCodec({ registry: registryOptions });
    const records = await Promise.all(Array.from({ length: 20 }, (_, i) => codec.encode(topic, event({ paymentId: `p-${i}`, amountCents: i }), v1)));
    expect(new Set(records.map((r) => r.value!.readInt32BE(1))).size).toBe(1);
    expect(await rest('GET', `/subjects/${subjectOf(topic)}/versions`)).toEqual([1]);
  });

  it('refuses a subject configured weaker than BACKWARD_TRANSITIVE unless opted out', async () => {
    const topic = uniqueTopic();
    await rest('PUT', `/config/${subjectOf(topic)}`, { compatibility: 'BACKWARD' });
    await expect(createAvroCodec({ registry: registryOptions }).prepare(topic, v1)).rejects.toBeInstanceOf(CompatibilityTooWeakError);
    await expect(createAvroCodec({ registry: registryOptions, allowWeakerCompatibility: true }).prepare(topic, v1)).resolves.toBeGreaterThan(0);
  });

  it('with runtime registration off, publishes only schemas registered ahead', async () => {
    const topic = uniqueTopic();
    const strict = createAvroCodec({ registry: registryOptions, autoRegister: false });
    await expect(strict.prepare(topic, v1)).rejects.toBeInstanceOf(SchemaNotRegisteredError);
    expect(await rest('GET', `/subjects/${subjectOf(topic)}/versions`)).toMatchObject({ error_code: 40401 });
    await createAvroCodec({ registry: registryOptions }).prepare(topic, v1);
    await expect(strict.prepare(topic, v1)).resolves.toBeGreaterThan(0);
  });

  it('decodes old and new writer versions into the reader schema', async () => {
    const topic = uniqueTopic();
    const codec = createAvroCodec({ registry: registryOptions });
    const old = await codec.encode(topic, event({ paymentId: 'p-old', amountCents: 3 }), v1);
    const next = await codec.encode(topic, event({ paymentId: 'p-new', amountCents: 4, method: 'iban' }), v2);
    const reader = createAvroCodec({ registry: registryOptions });
    expect((await reader.decode(old, { readerSchema: v2 })).event.data).toEqual({ paymentId: 'p-old', amountCents: 3, method: 'card' });
    expect((await reader.decode(next, { readerSchema: v2 })).event.data).toEqual({ paymentId: 'p-new', amountCents: 4, method: 'iban' });
  });

  it('reports an unknown schema id as such (not as an outage)', async () => {
    const codec = createAvroCodec({ registry: registryOptions });
    const out = await codec.encode(uniqueTopic(), event({ paymentId: 'p', amountCents: 1 }), v1);
    const forged: KafkaRecord = { ...out, value: Buffer.concat([wireHeader(987654), out.value!.subarray(5)]) };
    const attempt = createAvroCodec({ registry: registryOptions }).decode(forged);
    await expect(attempt).rejects.toBeInstanceOf(UnknownSchemaIdError);
    await expect(attempt).rejects.toMatchObject({ retriable: false, schemaId: 987654 });
  });

  it('fails closed with a retriable error when the registry is down, without echoing credentials', async () => {
    const down = createAvroCodec({ registry: { url: 'http://evkit:s3cr3t-pw@127.0.0.1:1/apis/ccompat/v7', timeoutMs: 2000 } });
    const attempt = down.encode(uniqueTopic(), event({ paymentId: 'p', amountCents: 1 }), v1);
    await expect(attempt).rejects.toBeInstanceOf(RegistryUnavailableError);
    await expect(attempt).rejects.toMatchObject({ retriable: true });
    const error = (await attempt.then(
      () => undefined,
      (e: unknown) => e,
    )) as Error;
    expect(`${error.message} ${String(error.cause)}`).not.toContain('s3cr3t-pw');
  });

  it('sends basic-auth credentials from the URL as a header (and only there)', async () => {
    // Apicurio runs without auth here, so it ignores the header; the request must still work.
    const client = createRegistryClient({ url: endpoints.registryUrl.replace('http://', 'http://user:pw@') });
    expect(client.displayUrl).not.toContain('pw');
    expect(await client.globalCompatibility()).toBe('BACKWARD_TRANSITIVE');
  });
});

async function consumeOne(kafka: Kafka, topic: string): Promise<KafkaRecord> {
  const consumer = kafka.consumer({ groupId: `evkit-it-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  try {
    return await new Promise<KafkaRecord>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('nothing consumed in 30 s')), 30_000);
      consumer
        .run({
          eachMessage: ({ message }) => {
            clearTimeout(timer);
            resolve({ key: message.key, value: message.value, headers: message.headers ?? {} });
            return Promise.resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
}
