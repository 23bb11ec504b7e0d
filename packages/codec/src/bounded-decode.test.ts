import * as avro from 'avsc';
import { createEvent, type KafkaRecord } from '@evkit/envelope';
import { createAvroCodec } from './avro-codec';
import { boundedDecode, MAX_DEPTH } from './bounded-decode';
import { CorruptPayloadError, DecodeBudgetExceededError } from './errors';
import { createInMemoryRegistry } from './in-memory-registry';
import { wireHeader } from './wire-format';

// Each hostile input below hangs, crashes or stalls plain avsc (map count 10^15: a loop for
// good; array count 10^9: heap exhausted; negative block size under a resolver: a loop for good).
// Through the guard each must fail fast with a typed error.

const longType = avro.Type.forSchema('long');
/** Avro's zig-zag varint, as avsc writes a long. */
const varint = (value: number): number[] => [...longType.toBuffer(value)];

const type = (schema: unknown) => avro.Type.forSchema(schema as avro.Schema);
const bytes = (...parts: (number | number[])[]) => Buffer.from(parts.flat());

/** Runs `decode` and returns its error, failing unless it was fast. */
function failureOf(decode: () => unknown): unknown {
  const started = performance.now();
  try {
    decode();
  } catch (error) {
    expect(performance.now() - started).toBeLessThan(50);
    return error;
  }
  throw new Error('decoded without an error');
}

const linkedList = type({
  type: 'record',
  name: 'Node',
  fields: [
    { name: 'value', type: 'int' },
    { name: 'next', type: ['null', 'Node'] },
  ],
});
/** `depth` nested Node records: each level an int 0 and union branch 1, the last branch 0 (null). */
const listOf = (depth: number) => Buffer.from([...Array<number[]>(depth - 1).fill([0, 2]).flat(), 0, 0]);

describe('boundedDecode', () => {
  it.each([
    ['a map count of 10^15', type({ type: 'map', values: 'string' }), bytes(varint(1e15)), CorruptPayloadError, /map count 1000000000000000 with 0 bytes left/],
    ['an array count of 10^9', type({ type: 'array', items: 'int' }), bytes(varint(1e9)), CorruptPayloadError, /array count 1000000000 with 0 bytes left/],
    ['an array count of 10^9 of nulls', type({ type: 'array', items: 'null' }), bytes(varint(1e9)), DecodeBudgetExceededError, /more than 4106 array or map entries for its 5 bytes/],
    ['a block of 10^15 empty records', type({ type: 'array', items: { type: 'record', name: 'E', fields: [] } }), bytes(varint(-1e15), 0), DecodeBudgetExceededError, /array or map entries/],
    ['a negative block count with a huge size', type({ type: 'array', items: 'long' }), bytes(varint(-2), varint(2 ** 52), 2, 4, 0), CorruptPayloadError, /array block size 4503599627370496 with 3 bytes left/],
    ['a negative block count with a negative size', type({ type: 'map', values: 'int' }), bytes(varint(-1), varint(-3), 2, 0x61, 2, 0), CorruptPayloadError, /map block size -3/],
    ['a block size that disagrees with its entries', type({ type: 'array', items: 'int' }), bytes(varint(-2), varint(1), 2, 4, 0), CorruptPayloadError, /block size disagrees/],
    ['a string length of 2^52', type('string'), bytes(varint(2 ** 52), 0x61), CorruptPayloadError, /length 4503599627370496 with 1 bytes left/],
    ['a negative bytes length', type('bytes'), bytes(varint(-5), 1, 2), CorruptPayloadError, /length -5/],
    ['a map key longer than the value', type({ type: 'map', values: 'null' }), bytes(varint(1), varint(1e6), 0), CorruptPayloadError, /length 1000000 with 1 bytes left/],
    ['a union index out of range', type(['null', 'string']), bytes(varint(2)), CorruptPayloadError, /union index 2 of 2/],
    ['a negative enum index', type({ type: 'enum', name: 'C', symbols: ['A', 'B'] }), bytes(varint(-1)), CorruptPayloadError, /enum index -1 of 2/],
    ['an 11-byte varint', type('long'), bytes(Array<number>(10).fill(0xff), 1), CorruptPayloadError, /varint longer than 10 bytes/],
    ['a 6-byte int', type('int'), bytes(0x80, 0x80, 0x80, 0x80, 0x80, 1), CorruptPayloadError, /varint longer than 5 bytes/],
    ['a truncated fixed', type({ type: 'fixed', name: 'F', size: 16 }), bytes(1, 2, 3), CorruptPayloadError, /16 bytes expected/],
    ['trailing bytes', type('int'), bytes(2, 0), CorruptPayloadError, /1 trailing bytes/],
    [`records nested ${MAX_DEPTH + 1} deep`, linkedList, listOf(MAX_DEPTH + 1), DecodeBudgetExceededError, /nests records deeper than 256/],
    ['records nested 100000 deep', linkedList, listOf(100_000), DecodeBudgetExceededError, /nests records deeper/],
  ])('refuses %s fast with a typed error', (_name, writer, payload, errorType, message) => {
    const error = failureOf(() => boundedDecode(writer, payload, 'for schema id 7'));
    expect(error).toBeInstanceOf(errorType);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain('Avro value for schema id 7');
  });

  it('refuses a negative block size where a resolver would skip backwards for good', () => {
    const writer = type({ type: 'record', name: 'R', fields: [{ name: 'tags', type: { type: 'map', values: 'int' } }, { name: 'n', type: 'int' }] });
    const reader = type({ type: 'record', name: 'R', fields: [{ name: 'n', type: 'int' }] });
    const payload = bytes(varint(-1), varint(-2), 6); // plain avsc: back to the count, again and again
    const error = failureOf(() => boundedDecode(writer, payload, '', { type: reader, resolver: reader.createResolver(writer) }));
    expect(error).toBeInstanceOf(CorruptPayloadError);
  });

  it('reads what is valid: blocks with sizes, nesting up to the limit, zero-byte entries within the budget', () => {
    const ints = type({ type: 'array', items: 'int' });
    expect(boundedDecode(ints, bytes(varint(-2), varint(2), 2, 4, varint(1), 6, 0), '')).toEqual([1, 2, 3]);
    const map = type({ type: 'map', values: 'long' });
    const reader = type({ type: 'map', values: 'double' });
    expect(boundedDecode(map, map.toBuffer({ a: 1, b: -2 }), '', { type: reader, resolver: reader.createResolver(map) })).toEqual({ a: 1, b: -2 });
    let deepest = boundedDecode(linkedList, listOf(MAX_DEPTH), '') as { next: unknown } | null;
    let depth = 0;
    for (; deepest; depth++) deepest = deepest.next as { next: unknown } | null;
    expect(depth).toBe(MAX_DEPTH);
    expect(boundedDecode(type({ type: 'array', items: 'null' }), bytes(varint(4000), 0), '')).toHaveLength(4000);
    const long = type('long');
    expect(boundedDecode(long, long.toBuffer(2 ** 52), '')).toBe(2 ** 52);
    expect(boundedDecode(long, long.toBuffer(-(2 ** 52)), '')).toBe(-(2 ** 52));
    const logical = type({ type: 'bytes', logicalType: 'decimal', precision: 4, scale: 2 });
    expect(boundedDecode(logical, logical.toBuffer(Buffer.from([1, 2])), '')).toEqual(Buffer.from([1, 2]));
  });
});

describe('Avro codec decodes through the guard', () => {
  const tagged = { type: 'record', name: 'Tagged', fields: [{ name: 'tags', type: { type: 'map', values: 'string' } }] };
  const listed = { type: 'record', name: 'Listed', fields: [{ name: 'items', type: { type: 'array', items: 'null' } }] };
  const event = (data: unknown) => createEvent({ source: '/s', type: 't', data });

  async function hostile(schema: object, data: unknown, mode: 'binary' | 'structured', body: (id: number) => Buffer): Promise<KafkaRecord> {
    const codec = createAvroCodec({ registry, mode, subjectNameStrategy: 'record' });
    const record = await codec.encode('t', event(data), schema);
    return { ...record, value: body(record.value!.readInt32BE(1)) };
  }
  const registry = createInMemoryRegistry();

  it.each([
    ['a map count of 10^15 in 13 bytes', tagged, { tags: {} }, (id: number) => bytes([...wireHeader(id)], varint(1e15)), 13, 'EVKIT_CODEC_CORRUPT_PAYLOAD'],
    ['an array count of 10^9 in 10 bytes', listed, { items: [] }, (id: number) => bytes([...wireHeader(id)], varint(1e9)), 10, 'EVKIT_CODEC_DECODE_BUDGET_EXCEEDED'],
  ])('binary mode, with and without a reader schema: %s', async (_name, schema, data, body, length, code) => {
    const record = await hostile(schema, data, 'binary', body);
    expect(record.value).toHaveLength(length);
    const codec = createAvroCodec({ registry });
    for (const options of [{}, { readerSchema: schema }]) {
      const started = performance.now();
      await expect(codec.decode(record, options)).rejects.toMatchObject({ code });
      expect(performance.now() - started).toBeLessThan(50);
    }
  });

  it('structured mode: a hostile count in the extensions map', async () => {
    const record = await hostile(tagged, { tags: {} }, 'structured', () => Buffer.alloc(0));
    const valid = (await createAvroCodec({ registry, mode: 'structured', subjectNameStrategy: 'record' }).encode('t', event({ tags: {} }), tagged)).value!;
    // The envelope ends with the empty extensions map (one 0 byte), then the data (one 0 byte).
    const value = Buffer.concat([valid.subarray(0, valid.length - 2), bytes(varint(1e15)), valid.subarray(-1)]);
    const codec = createAvroCodec({ registry });
    for (const options of [{}, { readerSchema: tagged }]) {
      await expect(codec.decode({ ...record, value }, options)).rejects.toMatchObject({
        code: 'EVKIT_CODEC_CORRUPT_PAYLOAD',
        message: expect.stringMatching(/map count 1000000000000000/) as unknown,
      });
    }
  });
});
