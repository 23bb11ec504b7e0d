import { randomBytes } from 'node:crypto';
import { createEvent, toBinaryRecord, type KafkaRecord } from '@evkit/envelope';
import { EvkitError } from '@evkit/errors';
import { createAvroCodec } from './avro-codec';
import {
  BadMagicByteError,
  CodecConfigError,
  CompatibilityTooWeakError,
  CorruptPayloadError,
  IncompatibleSchemaError,
  InvalidPayloadError,
  ReaderSchemaMismatchError,
  SchemaNotRegisteredError,
  UnknownSchemaIdError,
} from './errors';
import { createInMemoryRegistry } from './in-memory-registry';
import { wireHeader } from './wire-format';

const orderPlacedV1 = {
  type: 'record',
  name: 'OrderPlaced',
  namespace: 'com.example.orders',
  fields: [
    { name: 'orderId', type: 'string' },
    { name: 'amountCents', type: 'long' },
  ],
};
const orderPlacedV2 = {
  ...orderPlacedV1,
  fields: [...orderPlacedV1.fields, { name: 'currency', type: 'string', default: 'EUR' }],
};
// Breaks BACKWARD: a new field without a default cannot be filled from v1 data.
const orderPlacedBroken = {
  ...orderPlacedV1,
  fields: [...orderPlacedV1.fields, { name: 'customerId', type: 'string' }],
};

const placed = (data: object = { orderId: 'o-1', amountCents: 1250 }) =>
  createEvent({
    source: '/orders',
    type: 'com.example.order.placed',
    subject: 'order/o-1',
    partitionkey: 'o-1',
    correlationid: 'c-1',
    extensions: { tenant: 'acme' },
    data,
  });

/** What a consumer receives: headers and key as Buffers. */
function consumed(record: KafkaRecord): KafkaRecord {
  const headers = Object.fromEntries(Object.entries(record.headers).map(([k, v]) => [k, Buffer.from(String(v))]));
  return { key: record.key === null ? null : Buffer.from(record.key), value: record.value, headers };
}

// The default subject naming strategy is topic-record: one subject per event type on a topic.
const SUBJECT = 'orders-com.example.orders.OrderPlaced';

describe('Avro codec, binary mode', () => {
  it('round-trips an event exactly, with Avro data in the Confluent wire format', async () => {
    const registry = createInMemoryRegistry();
    const codec = createAvroCodec({ registry });
    const event = placed();
    const record = await codec.encode('orders', event, orderPlacedV1);
    expect(record.key).toBe('o-1');
    expect(record.headers['content-type']).toBe('application/avro');
    expect(record.value![0]).toBe(0);
    const decoded = await codec.decode(consumed(record));
    expect(decoded.event).toEqual({ ...event, datacontenttype: 'application/avro' });
    expect(decoded.schemaId).toBe(record.value!.readInt32BE(1));
    expect(decoded.mode).toBe('binary');
  });

  it('enforces and registers once, then costs no registry request per message', async () => {
    const registry = createInMemoryRegistry();
    const codec = createAvroCodec({ registry });
    await Promise.all(Array.from({ length: 50 }, () => codec.encode('orders', placed(), orderPlacedV1)));
    expect(registry.calls.register).toBe(1);
    expect(registry.calls.setSubjectCompatibility).toBe(1);
    const before = { ...registry.calls };
    for (let i = 0; i < 100; i++) await codec.encode('orders', placed(), orderPlacedV1);
    expect(registry.calls).toEqual(before);
  });

  it('gives a new subject BACKWARD_TRANSITIVE, and refuses a breaking schema naming the subject and version', async () => {
    const registry = createInMemoryRegistry();
    const codec = createAvroCodec({ registry });
    await codec.encode('orders', placed(), orderPlacedV1);
    expect(await registry.subjectCompatibility(SUBJECT)).toBe('BACKWARD_TRANSITIVE');
    const attempt = codec.encode('orders', placed({ orderId: 'o-1', amountCents: 1, customerId: 'c' }), orderPlacedBroken);
    await expect(attempt).rejects.toBeInstanceOf(IncompatibleSchemaError);
    await expect(attempt).rejects.toMatchObject({
      code: 'EVKIT_CODEC_INCOMPATIBLE_SCHEMA',
      subject: SUBJECT,
      level: 'BACKWARD_TRANSITIVE',
      incompatible: [expect.objectContaining({ version: 1 })],
    });
    await expect(attempt).rejects.toThrow(/customerId/);
    expect(await registry.versions(SUBJECT)).toEqual([1]);
  });

  it('accepts a compatible evolution and registers it as a new version', async () => {
    const registry = createInMemoryRegistry();
    const codec = createAvroCodec({ registry });
    await codec.encode('orders', placed(), orderPlacedV1);
    await codec.encode('orders', placed({ orderId: 'o-2', amountCents: 5, currency: 'USD' }), orderPlacedV2);
    expect(await registry.versions(SUBJECT)).toEqual([1, 2]);
  });

  it('refuses a subject configured weaker than required, unless told otherwise', async () => {
    const registry = createInMemoryRegistry();
    await registry.setSubjectCompatibility(SUBJECT, 'BACKWARD');
    await expect(createAvroCodec({ registry }).encode('orders', placed(), orderPlacedV1)).rejects.toBeInstanceOf(
      CompatibilityTooWeakError,
    );
    const optedOut = createAvroCodec({ registry, allowWeakerCompatibility: true });
    await expect(optedOut.encode('orders', placed(), orderPlacedV1)).resolves.toBeDefined();
  });

  it('with runtime registration off, requires the schema to be registered already', async () => {
    const registry = createInMemoryRegistry({ globalCompatibility: 'BACKWARD_TRANSITIVE' });
    const strict = createAvroCodec({ registry, autoRegister: false });
    await expect(strict.encode('orders', placed(), orderPlacedV1)).rejects.toBeInstanceOf(SchemaNotRegisteredError);
    expect(registry.calls.register ?? 0).toBe(0);
    await createAvroCodec({ registry }).prepare('orders', orderPlacedV1);
    await expect(strict.encode('orders', placed(), orderPlacedV1)).resolves.toBeDefined();
  });

  it('names the fields that do not match the schema', async () => {
    const codec = createAvroCodec({ registry: createInMemoryRegistry() });
    const attempt = codec.encode('orders', placed({ orderId: 42, amountCents: 'lots' }), orderPlacedV1);
    await expect(attempt).rejects.toBeInstanceOf(InvalidPayloadError);
    await expect(attempt).rejects.toThrow(/invalid at orderId, amountCents/);
  });

  it('uses the record name for the record strategies, topic-record by default', async () => {
    const registry = createInMemoryRegistry();
    await createAvroCodec({ registry, subjectNameStrategy: 'record' }).encode('orders', placed(), orderPlacedV1);
    await createAvroCodec({ registry, subjectNameStrategy: 'topic' }).encode('orders', placed(), orderPlacedV1);
    await createAvroCodec({ registry }).encode('orders', placed(), orderPlacedV1);
    expect(await registry.versions('com.example.orders.OrderPlaced')).toEqual([1]);
    expect(await registry.versions('orders-value')).toEqual([1]);
    expect(await registry.versions('orders-com.example.orders.OrderPlaced')).toEqual([1]);
  });

  it('refuses an unnamed schema under the record strategies instead of naming its subject `orders-`', async () => {
    const registry = createInMemoryRegistry();
    const attempt = createAvroCodec({ registry }).encode('orders', placed(), '"string"');
    await expect(attempt).rejects.toBeInstanceOf(CodecConfigError);
    await expect(attempt).rejects.toThrow(/needs a named schema/);
    const text = createEvent({ source: '/orders', type: 'com.example.orders.note', data: 'x' });
    await expect(createAvroCodec({ registry, subjectNameStrategy: 'topic' }).encode('orders', text, '"string"')).resolves.toBeDefined();
  });
});

describe('Avro codec, reader-schema evolution on decode', () => {
  it('reads old and new writer versions into one reader schema', async () => {
    const registry = createInMemoryRegistry();
    const producer = createAvroCodec({ registry });
    const v1Record = await producer.encode('orders', placed(), orderPlacedV1);
    const v2Record = await producer.encode('orders', placed({ orderId: 'o-2', amountCents: 9, currency: 'USD' }), orderPlacedV2);

    const consumer = createAvroCodec({ registry });
    const fromV1 = await consumer.decode(consumed(v1Record), { readerSchema: orderPlacedV2 });
    const fromV2 = await consumer.decode(consumed(v2Record), { readerSchema: orderPlacedV2 });
    expect(fromV1.event.data).toEqual({ orderId: 'o-1', amountCents: 1250, currency: 'EUR' });
    expect(fromV2.event.data).toEqual({ orderId: 'o-2', amountCents: 9, currency: 'USD' });
    // And a v1 reader drops the field it does not know.
    expect((await consumer.decode(consumed(v2Record), { readerSchema: orderPlacedV1 })).event.data).toEqual({
      orderId: 'o-2',
      amountCents: 9,
    });
  });

  it('fails with a typed error when the reader cannot read the writer', async () => {
    const registry = createInMemoryRegistry();
    const record = await createAvroCodec({ registry }).encode('orders', placed(), orderPlacedV1);
    const attempt = createAvroCodec({ registry }).decode(consumed(record), { readerSchema: orderPlacedBroken });
    await expect(attempt).rejects.toBeInstanceOf(ReaderSchemaMismatchError);
  });
});

describe('Avro codec, structured mode', () => {
  it('carries the whole event as one Avro record with content-type application/cloudevents+avro', async () => {
    const registry = createInMemoryRegistry();
    const codec = createAvroCodec({ registry, mode: 'structured' });
    const event = placed();
    const record = await codec.encode('orders', event, orderPlacedV1);
    expect(record.headers).toEqual({ 'content-type': 'application/cloudevents+avro' });
    expect(record.key).toBe('o-1');
    const decoded = await codec.decode(consumed(record));
    expect(decoded.event).toEqual(event);
    expect(decoded.mode).toBe('structured');
    const subject = 'orders-com.example.orders.OrderPlacedCloudEvent';
    const [registered] = await registry.versions(subject);
    expect(JSON.parse(await registry.schemaAt(subject, registered!))).toMatchObject({
      name: 'com.example.orders.OrderPlacedCloudEvent',
    });
  });

  it('is read by a binary-mode codec too: the record says which mode it is in', async () => {
    const registry = createInMemoryRegistry();
    const record = await createAvroCodec({ registry, mode: 'structured' }).encode('orders', placed(), orderPlacedV1);
    const decoded = await createAvroCodec({ registry }).decode(consumed(record), { readerSchema: orderPlacedV2 });
    expect(decoded.event.data).toEqual({ orderId: 'o-1', amountCents: 1250, currency: 'EUR' });
  });
});

describe('Avro codec, bad input on decode', () => {
  let good: KafkaRecord;
  const registry = createInMemoryRegistry();
  const codec = createAvroCodec({ registry });
  beforeAll(async () => {
    good = consumed(await codec.encode('orders', placed(), orderPlacedV1));
  });
  const withValue = (value: Buffer): KafkaRecord => ({ ...good, value });

  it.each([
    ['a wrong magic byte', () => withValue(Buffer.from('{"orderId":"o-1"}')), BadMagicByteError, 'EVKIT_CODEC_BAD_MAGIC_BYTE'],
    ['an unknown schema id', () => withValue(Buffer.concat([wireHeader(9999), good.value!.subarray(5)])), UnknownSchemaIdError, 'EVKIT_CODEC_UNKNOWN_SCHEMA_ID'],
    ['truncated Avro', () => withValue(good.value!.subarray(0, good.value!.length - 2)), CorruptPayloadError, 'EVKIT_CODEC_CORRUPT_PAYLOAD'],
    ['trailing bytes', () => withValue(Buffer.concat([good.value!, Buffer.from([1, 2, 3])])), CorruptPayloadError, 'EVKIT_CODEC_CORRUPT_PAYLOAD'],
    ['a header only', () => withValue(good.value!.subarray(0, 5)), CorruptPayloadError, 'EVKIT_CODEC_CORRUPT_PAYLOAD'],
    ['no value (tombstone)', () => ({ ...good, value: null }), EvkitError, 'EVKIT_ENVELOPE_MALFORMED_RECORD'],
    ['no ce_ headers', () => ({ ...good, headers: {} }), EvkitError, 'EVKIT_ENVELOPE_MALFORMED_RECORD'],
    ['a malformed ce_time', () => ({ ...good, headers: { ...good.headers, ce_time: Buffer.from('noon') } }), EvkitError, 'EVKIT_ENVELOPE_MALFORMED_RECORD'],
    ['a JSON content type', () => ({ ...good, headers: { ...good.headers, 'content-type': Buffer.from('application/json') } }), EvkitError, 'EVKIT_ENVELOPE_UNSUPPORTED_CONTENT_TYPE'],
    ['structured JSON', () => ({ ...good, headers: { 'content-type': Buffer.from('application/cloudevents+json') } }), EvkitError, 'EVKIT_ENVELOPE_UNSUPPORTED_CONTENT_TYPE'],
  ])('%s gives a typed error with a stable code', async (_name, make, type, code) => {
    const attempt = codec.decode(make());
    await expect(attempt).rejects.toBeInstanceOf(type);
    await expect(attempt).rejects.toMatchObject({ code });
  });

  it('survives random and mutated records: only typed errors, never a crash or a hang', async () => {
    const codes = new Map<string, number>();
    const mutate = (value: Buffer): Buffer => {
      const copy = Buffer.from(value);
      const flips = 1 + Math.floor(Math.random() * 4);
      for (let i = 0; i < flips; i++) copy[Math.floor(Math.random() * copy.length)] = Math.floor(Math.random() * 256);
      return Math.random() < 0.3 ? copy.subarray(0, Math.floor(Math.random() * copy.length)) : copy;
    };
    for (let i = 0; i < 3000; i++) {
      const value = i % 3 === 0 ? randomBytes(Math.floor(Math.random() * 64)) : mutate(good.value!);
      const headers = i % 7 === 0 ? { ...good.headers, ce_specversion: randomBytes(3) } : good.headers;
      try {
        await codec.decode({ ...good, value, headers });
      } catch (error) {
        if (!(error instanceof EvkitError)) throw new Error(`untyped failure on input ${value.toString('hex')}: ${String(error)}`);
        codes.set(error.code, (codes.get(error.code) ?? 0) + 1);
      }
    }
    // The mutations did reach each failure path.
    expect([...codes.keys()]).toEqual(
      expect.arrayContaining(['EVKIT_CODEC_BAD_MAGIC_BYTE', 'EVKIT_CODEC_CORRUPT_PAYLOAD', 'EVKIT_ENVELOPE_MALFORMED_RECORD']),
    );
  });

  it('reads a record written by another CloudEvents binding (no partitionkey header, key only)', async () => {
    const event = placed();
    const foreign = toBinaryRecord({ ...event, partitionkey: undefined, datacontenttype: 'avro/binary' }, good.value!);
    const decoded = await codec.decode(consumed({ ...foreign, key: 'o-1' }));
    expect(decoded.event.partitionkey).toBe('o-1');
    expect(decoded.event.data).toEqual({ orderId: 'o-1', amountCents: 1250 });
  });
});
