import { MalformedRecordError } from './errors';
import { createEvent } from './event';
import { bindingModeOf, fromBinaryRecord, toBinaryRecord, withData, type KafkaRecord } from './kafka-binding';

const event = createEvent({
  source: '/orders-service',
  type: 'com.example.order.placed',
  subject: 'order/o-1',
  datacontenttype: 'application/avro',
  correlationid: 'corr-1',
  causationid: 'cause-1',
  partitionkey: 'o-1',
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  extensions: { tenant: 'acme' },
  data: { orderId: 'o-1' },
});

/** Headers as a Kafka consumer sees them: every value a Buffer. */
function asConsumed(record: KafkaRecord): KafkaRecord {
  const headers = Object.fromEntries(Object.entries(record.headers).map(([k, v]) => [k, Buffer.from(String(v))]));
  return { key: record.key === null ? null : Buffer.from(record.key), value: record.value, headers };
}

describe('CloudEvents Kafka binding, binary mode', () => {
  it('maps attributes to ce_ headers, datacontenttype to content-type and partitionkey to the key', () => {
    const record = toBinaryRecord(event, Buffer.from([0, 0, 0, 0, 1, 2]));
    expect(record.key).toBe('o-1');
    expect(record.headers).toEqual({
      ce_id: event.id,
      ce_source: '/orders-service',
      ce_specversion: '1.0',
      ce_type: 'com.example.order.placed',
      ce_subject: 'order/o-1',
      ce_time: event.time,
      'content-type': 'application/avro',
      ce_correlationid: 'corr-1',
      ce_causationid: 'cause-1',
      ce_partitionkey: 'o-1',
      ce_traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      ce_tenant: 'acme',
    });
  });

  it('round-trips every attribute and extension exactly', () => {
    const record = asConsumed(toBinaryRecord(event, Buffer.from('x')));
    expect(withData(fromBinaryRecord(record), event.data)).toEqual(event);
    expect(bindingModeOf(record.headers)).toBe('binary');
  });

  it('ignores headers that are not CloudEvent attributes', () => {
    const record = asConsumed(toBinaryRecord(event, Buffer.from('x')));
    record.headers['x-app'] = Buffer.from('other');
    record.headers.traceparent = Buffer.from('00-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-bbbbbbbbbbbbbbbb-01');
    expect(fromBinaryRecord(record).traceparent).toBe(event.traceparent);
  });

  it('reads a header with a null value as absent', () => {
    const record = asConsumed(toBinaryRecord(event, Buffer.from('x')));
    (record.headers as Record<string, unknown>).ce_subject = null;
    expect(fromBinaryRecord(record).subject).toBeUndefined();
  });

  it('reads the key as partitionkey when a producer wrote no ce_partitionkey header', () => {
    const record = asConsumed(toBinaryRecord({ ...event, partitionkey: undefined }, Buffer.from('x')));
    record.key = Buffer.from('o-9');
    expect(fromBinaryRecord(record).partitionkey).toBe('o-9');
  });

  it.each([
    ['no ce_specversion', (h: KafkaRecord['headers']) => delete h.ce_specversion, /no ce_specversion header/],
    ['no ce_id', (h: KafkaRecord['headers']) => delete h.ce_id, /header ce_id: .*'id' is required/],
    ['bad ce_time', (h: KafkaRecord['headers']) => (h.ce_time = Buffer.from('yesterday')), /header ce_time: .*RFC 3339/],
    ['duplicated ce_type', (h: KafkaRecord['headers']) => (h.ce_type = [Buffer.from('a'), Buffer.from('b')]), /ce_type appears 2 times/],
    ['ce_datacontenttype disagreeing with content-type', (h: KafkaRecord['headers']) => (h.ce_datacontenttype = Buffer.from('x/y')), /disagree/],
    ['bad content-type', (h: KafkaRecord['headers']) => (h['content-type'] = Buffer.from('nonsense')), /header content-type: .*media type/],
    ['wrong specversion', (h: KafkaRecord['headers']) => (h.ce_specversion = Buffer.from('0.3')), /header ce_specversion/],
    ['ce_id not UTF-8', (h: KafkaRecord['headers']) => (h.ce_id = Buffer.from([0x69, 0x64, 0xff])), /header ce_id is not valid UTF-8/],
    ['ce_source not UTF-8 (a lone continuation byte)', (h: KafkaRecord['headers']) => (h.ce_source = Buffer.from([0x2f, 0x80])), /header ce_source is not valid UTF-8/],
    ['an extension not UTF-8 (an overlong encoding)', (h: KafkaRecord['headers']) => (h.ce_tenant = Buffer.from([0xc0, 0xaf])), /header ce_tenant is not valid UTF-8/],
    ['content-type not UTF-8', (h: KafkaRecord['headers']) => (h['content-type'] = Buffer.from([0xfe])), /header content-type is not valid UTF-8/],
    ['a 1 MiB ce_time', (h: KafkaRecord['headers']) => (h.ce_time = Buffer.alloc(1024 * 1024, 0x31)), /header ce_time is 1048576 bytes, more than the 8192/],
    ['a 1 MiB ce_tenant as a string', (h: KafkaRecord['headers']) => (h.ce_tenant = 'x'.repeat(1024 * 1024)), /header ce_tenant is 1048576 bytes/],
  ])('rejects a record with %s as malformed, naming the header', (_name, mutate, message) => {
    const record = asConsumed(toBinaryRecord(event, Buffer.from('x')));
    mutate(record.headers);
    expect(() => fromBinaryRecord(record)).toThrow(MalformedRecordError);
    expect(() => fromBinaryRecord(record)).toThrow(message);
  });

  it('refuses a key that is not UTF-8 where it stands in for partitionkey, and two such ids never read alike', () => {
    const record = asConsumed(toBinaryRecord({ ...event, partitionkey: undefined }, Buffer.from('x')));
    record.key = Buffer.from([0x6f, 0xff]);
    expect(() => fromBinaryRecord(record)).toThrow(/the record key is not valid UTF-8/);
    // Lossy decoding made both of these "id\uFFFD": the same event id in dedupe.
    for (const bad of [[0x69, 0x64, 0xfe], [0x69, 0x64, 0xff]]) {
      const forged = asConsumed(toBinaryRecord(event, Buffer.from('x')));
      forged.headers.ce_id = Buffer.from(bad);
      expect(() => fromBinaryRecord(forged)).toThrow(MalformedRecordError);
    }
  });

  it('keeps an invalid attribute out of its error message beyond a short quote', () => {
    const record = asConsumed(toBinaryRecord(event, Buffer.from('x')));
    record.headers.ce_time = Buffer.from(`x${'9'.repeat(8000)}`);
    expect(() => fromBinaryRecord(record)).toThrow(MalformedRecordError);
    try {
      fromBinaryRecord(record);
    } catch (error) {
      expect((error as Error).message.length).toBeLessThan(300);
    }
  });

  it('reads valid multi-byte UTF-8 as it is', () => {
    const record = asConsumed(toBinaryRecord({ ...event, subject: 'commande/é€𝄞' }, Buffer.from('x')));
    expect(fromBinaryRecord(record).subject).toBe('commande/é€𝄞');
  });

  it('tells structured mode by its content type', () => {
    expect(bindingModeOf({ 'content-type': Buffer.from('application/cloudevents+avro') })).toBe('structured');
    expect(bindingModeOf({ 'content-type': 'Application/CloudEvents+JSON; charset=utf-8' })).toBe('structured');
    expect(bindingModeOf({ 'content-type': 'application/avro' })).toBe('binary');
    expect(bindingModeOf({})).toBe('binary');
  });
});
