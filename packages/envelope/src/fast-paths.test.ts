import { createEvent, createGeneratedEvent, InvalidEventError, MalformedRecordError, toBinaryRecord } from './index';
import { fromBinaryRecord } from './kafka-binding';

const asBuffers = (headers: Record<string, string>) => Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v)]));

describe('fromBinaryRecord: recurring attributes checked once per distinct set', () => {
  const good = toBinaryRecord(createEvent({ source: '/orders', type: 'order.placed', datacontenttype: 'application/avro', data: null }), Buffer.alloc(0));

  it('still checks every per-record attribute of a record whose recurring set passed before', () => {
    expect(fromBinaryRecord({ key: null, headers: asBuffers(good.headers as Record<string, string>) }).source).toBe('/orders');
    const headers = asBuffers(good.headers as Record<string, string>);
    expect(() => fromBinaryRecord({ key: null, headers: { ...headers, ce_time: Buffer.from('yesterday') } })).toThrow(/ce_time/);
    expect(() => fromBinaryRecord({ key: null, headers: { ...headers, ce_id: Buffer.from('') } })).toThrow(MalformedRecordError);
    expect(() => fromBinaryRecord({ key: null, headers: { ...headers, ce_type: undefined } })).toThrow(/ce_type/);
    expect(() => fromBinaryRecord({ key: null, headers: { ...headers, ce_traceparent: Buffer.from('00-x') } })).toThrow(/ce_traceparent/);
  });

  it('checks a set it has not seen: an absent or changed source, another content type', () => {
    const headers = asBuffers(good.headers as Record<string, string>);
    expect(() => fromBinaryRecord({ key: null, headers: { ...headers, ce_source: undefined } })).toThrow(/ce_source/);
    expect(() => fromBinaryRecord({ key: null, headers: { ...headers, ce_source: Buffer.from('/orders ') } })).toThrow(/ce_source/);
    expect(() => fromBinaryRecord({ key: null, headers: { ...headers, 'content-type': Buffer.from('not a media type') } })).toThrow(/content-type/);
    expect(() => fromBinaryRecord({ key: null, headers: { ...headers, ce_dataschema: Buffer.from('relative/path') } })).toThrow(/ce_dataschema/);
    // The same bytes read twice give the same text; invalid UTF-8 is refused every time.
    const bad = Buffer.from([0x2f, 0xff]);
    for (let i = 0; i < 2; i += 1) expect(() => fromBinaryRecord({ key: null, headers: { ...headers, ce_source: bad } })).toThrow(/not valid UTF-8/);
  });
});

describe('createGeneratedEvent', () => {
  const base = { id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', source: '/s', type: 't', time: '2026-01-01T00:00:00.000Z', data: 1 };

  it('makes the event createEvent makes', () => {
    expect(createGeneratedEvent(base, { id: true, time: true, source: true })).toEqual(createEvent(base));
    expect(Object.isFrozen(createGeneratedEvent(base, {}))).toBe(true);
  });

  it('checks what was not generated: the user\'s attributes, and those named false', () => {
    expect(() => createGeneratedEvent({ ...base, type: '' }, { id: true, time: true, source: true })).toThrow(InvalidEventError);
    expect(() => createGeneratedEvent({ ...base, subject: '' }, { id: true })).toThrow(/subject/);
    expect(() => createGeneratedEvent({ ...base, time: 'now' }, { id: true })).toThrow(/time/);
    expect(() => createGeneratedEvent({ ...base, source: 'a b' }, { time: true })).toThrow(/source/);
    expect(() => createGeneratedEvent({ ...base, traceparent: 'x' }, { id: true })).toThrow(/traceparent/);
    expect(() => createGeneratedEvent({ ...base, specversion: '0.3' as never }, { id: true })).toThrow(/specversion/);
    expect(() => createGeneratedEvent({ ...base, tenant: 'a' } as never, { id: true })).toThrow(/not a CloudEvent attribute/);
  });

  it('a bad time right after a good one is still refused', () => {
    createEvent({ ...base });
    expect(() => createEvent({ ...base, time: '2026-02-30T00:00:00Z' })).toThrow(/time/);
  });
});
