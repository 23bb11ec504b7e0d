import { BadMagicByteError, CorruptPayloadError } from './errors';
import { parseWire, wireHeader } from './wire-format';

describe('Confluent wire format', () => {
  it('writes magic byte 0 and the schema id big-endian', () => {
    expect([...wireHeader(0x01020304)]).toEqual([0, 1, 2, 3, 4]);
  });

  it('parses what it writes', () => {
    const value = Buffer.concat([wireHeader(42), Buffer.from([7, 8])]);
    const { schemaId, payload } = parseWire(value);
    expect(schemaId).toBe(42);
    expect([...payload]).toEqual([7, 8]);
  });

  it('rejects a wrong magic byte, an empty value and a short header with typed errors', () => {
    expect(() => parseWire(Buffer.from('{"json":true}'))).toThrow(BadMagicByteError);
    expect(() => parseWire(Buffer.from('{"json":true}'))).toThrow(/starts with byte 123/);
    expect(() => parseWire(Buffer.alloc(0))).toThrow(CorruptPayloadError);
    expect(() => parseWire(Buffer.from([0, 0, 1]))).toThrow(/3 bytes, shorter than the 5-byte/);
  });
});
