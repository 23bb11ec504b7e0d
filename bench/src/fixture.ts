import { randomUUID } from 'node:crypto';
import * as avro from 'avsc';
import { createEvent, toBinaryRecord, type RecordHeaders } from '@evkit/envelope';
import { KEY_COUNT } from './settings';

// The one kind of record every variant produces and consumes: same keys, same value size, same
// headers (evkit's binary-mode CloudEvents headers), values in the Confluent wire format.

export const EVENT_TYPE = 'dev.evkit.bench.order.placed';
export const EVENT_SOURCE = '/bench/orders';
export const AVRO_CONTENT_TYPE = 'application/avro';

/** One object, reused: evkit's codec caches prepared schemas by identity. */
export const ORDER_SCHEMA = Object.freeze({
  type: 'record',
  name: 'OrderPlaced',
  namespace: 'dev.evkit.bench',
  fields: [
    { name: 'orderId', type: 'string' },
    { name: 'customerId', type: 'string' },
    { name: 'amountCents', type: 'long' },
    { name: 'currency', type: 'string' },
    { name: 'note', type: 'string' },
  ],
});
export const ORDER_SCHEMA_TEXT = JSON.stringify(ORDER_SCHEMA);

export interface OrderPlaced {
  orderId: string;
  customerId: string;
  amountCents: number;
  currency: string;
  note: string;
}

/** A record as KafkaJS takes it (`key`, `value`, `headers`), plus its data for variants that encode. */
export interface FixtureRecord {
  key: string;
  value: Buffer;
  headers: RecordHeaders;
  data: OrderPlaced;
}

const orderType = avro.Type.forSchema(ORDER_SCHEMA);
const WIRE_HEADER_BYTES = 5;

/** Aggregate ids spread over KEY_COUNT keys, in a scrambled but fixed order. */
export function keyOf(index: number): string {
  return `order-${String((index * 7919) % KEY_COUNT).padStart(6, '0')}`;
}

/** Data whose wire-format value (5-byte header + Avro) is exactly `valueBytes` long. */
export function dataFor(index: number, valueBytes: number): OrderPlaced {
  const key = keyOf(index);
  const base: OrderPlaced = { orderId: key, customerId: `customer-${index % 97}`, amountCents: 1250 + (index % 1000), currency: 'EUR', note: '' };
  let noteLength = Math.max(0, valueBytes - WIRE_HEADER_BYTES - orderType.toBuffer(base).length);
  for (;;) {
    const data = { ...base, note: 'x'.repeat(noteLength) };
    const size = WIRE_HEADER_BYTES + orderType.toBuffer(data).length;
    if (size === valueBytes || noteLength === 0) return data;
    noteLength -= size - valueBytes; // the length prefix grew by a byte: take one back
  }
}

export function wireValue(schemaId: number, data: OrderPlaced): Buffer {
  const value = Buffer.alloc(WIRE_HEADER_BYTES + orderType.toBuffer(data).length);
  value.writeUInt8(0, 0);
  value.writeInt32BE(schemaId, 1);
  orderType.toBuffer(data).copy(value, WIRE_HEADER_BYTES);
  return value;
}

/** The record evkit's producer would write for this data: evkit's own envelope and binding. */
export function fixtureRecord(index: number, valueBytes: number, schemaId: number): FixtureRecord {
  const key = keyOf(index);
  const data = dataFor(index, valueBytes);
  const value = wireValue(schemaId, data);
  const event = createEvent({ source: EVENT_SOURCE, type: EVENT_TYPE, partitionkey: key, datacontenttype: AVRO_CONTENT_TYPE, data: undefined });
  return { key, value, headers: toBinaryRecord(event, value).headers, data };
}

/**
 * `distinct` records cycled to `count`: producers send identical records without holding a
 * whole run in memory (event ids repeat across cycles; producers do not care).
 */
export function fixturePool(distinct: number, valueBytes: number, schemaId: number): FixtureRecord[] {
  return Array.from({ length: distinct }, (_, i) => fixtureRecord(i, valueBytes, schemaId));
}

/**
 * The CloudEvents headers a KafkaJS user writes by hand: the same names and value lengths as
 * evkit's (a random UUID instead of a UUIDv7, the time now).
 */
export function handWrittenHeaders(key: string): RecordHeaders {
  return {
    ce_id: randomUUID(),
    ce_source: EVENT_SOURCE,
    ce_specversion: '1.0',
    ce_type: EVENT_TYPE,
    ce_time: new Date().toISOString(),
    ce_partitionkey: key,
    'content-type': AVRO_CONTENT_TYPE,
  };
}
