import { BadMagicByteError, CorruptPayloadError } from './errors';

// Confluent wire format: magic byte 0, the schema id as a 4-byte big-endian integer, then the
// Avro binary encoding of the value.
export const MAGIC_BYTE = 0;
export const WIRE_HEADER_LENGTH = 5;

export function wireHeader(schemaId: number): Buffer {
  const header = Buffer.alloc(WIRE_HEADER_LENGTH);
  header.writeUInt8(MAGIC_BYTE, 0);
  header.writeInt32BE(schemaId, 1);
  return header;
}

export interface WireParts {
  schemaId: number;
  payload: Buffer;
}

export function parseWire(value: Buffer): WireParts {
  if (value.length === 0) throw new CorruptPayloadError('empty value: no Confluent wire format header');
  if (value[0] !== MAGIC_BYTE) {
    throw new BadMagicByteError(`value starts with byte ${value[0]}, not the Confluent wire format's magic byte 0`);
  }
  if (value.length < WIRE_HEADER_LENGTH) {
    throw new CorruptPayloadError(`value is ${value.length} bytes, shorter than the 5-byte wire format header`);
  }
  return { schemaId: value.readInt32BE(1), payload: value.subarray(WIRE_HEADER_LENGTH) };
}
