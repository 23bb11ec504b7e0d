import { InvalidEventError } from './errors';
import { createEvent, newEventId, validateEvent, type CloudEventInit } from './event';

const base: CloudEventInit<{ orderId: string }> = {
  source: '/orders-service',
  type: 'com.example.order.placed',
  data: { orderId: 'o-1' },
};

describe('createEvent', () => {
  it('fills in id (UUIDv7), time (RFC 3339 now) and specversion', () => {
    const before = Date.now();
    const event = createEvent(base);
    expect(event.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(event.specversion).toBe('1.0');
    expect(Date.parse(event.time!)).toBeGreaterThanOrEqual(before - 1);
    expect(event.extensions).toEqual({});
    expect(event.data).toEqual({ orderId: 'o-1' });
  });

  it('keeps every attribute given, and turns a Date into RFC 3339', () => {
    const event = createEvent({
      ...base,
      id: 'evt-1',
      subject: 'order/o-1',
      time: new Date('2026-01-02T03:04:05.678Z'),
      datacontenttype: 'application/avro',
      dataschema: 'urn:evkit:schema:1',
      correlationid: 'corr-1',
      causationid: 'cause-1',
      partitionkey: 'o-1',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      tracestate: 'rojo=00f067aa0ba902b7',
      extensions: { tenant: 'acme' },
    });
    expect(event).toEqual({
      id: 'evt-1',
      source: '/orders-service',
      specversion: '1.0',
      type: 'com.example.order.placed',
      subject: 'order/o-1',
      time: '2026-01-02T03:04:05.678Z',
      datacontenttype: 'application/avro',
      dataschema: 'urn:evkit:schema:1',
      correlationid: 'corr-1',
      causationid: 'cause-1',
      partitionkey: 'o-1',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      tracestate: 'rojo=00f067aa0ba902b7',
      extensions: { tenant: 'acme' },
      data: { orderId: 'o-1' },
    });
  });

  it('is immutable, and does not share the caller’s extensions object', () => {
    const extensions = { tenant: 'acme' };
    const event = createEvent({ ...base, extensions });
    extensions.tenant = 'changed';
    expect(event.extensions.tenant).toBe('acme');
    expect(Object.isFrozen(event)).toBe(true);
    expect(Object.isFrozen(event.extensions)).toBe(true);
    expect(() => {
      (event as { type: string }).type = 'other';
    }).toThrow(TypeError);
  });

  it('makes unique ids that sort by creation order', () => {
    const ids = Array.from({ length: 2000 }, newEventId);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });
});

describe('validation names the attribute at fault', () => {
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ['missing type', { type: undefined }, 'type', /is required/],
    ['empty source', { source: '' }, 'source', /must not be empty/],
    ['source with spaces', { source: '/orders service' }, 'source', /URI-reference/],
    ['numeric id', { id: 42 }, 'id', /must be a string, got number/],
    ['wrong specversion', { specversion: '0.3' }, 'specversion', /must be "1.0"/],
    ['time without zone', { time: '2026-01-02T03:04:05' }, 'time', /RFC 3339/],
    ['time with month 13', { time: '2026-13-02T03:04:05Z' }, 'time', /RFC 3339/],
    ['time on Feb 30', { time: '2026-02-30T03:04:05Z' }, 'time', /RFC 3339/],
    ['time as plain date', { time: '2026-01-02' }, 'time', /RFC 3339/],
    ['empty subject', { subject: '' }, 'subject', /must not be empty/],
    ['bad media type', { datacontenttype: 'avro' }, 'datacontenttype', /media type/],
    ['relative dataschema', { dataschema: 'schemas/order.avsc' }, 'dataschema', /absolute URI/],
    ['malformed traceparent', { traceparent: '00-abc-def-01' }, 'traceparent', /W3C traceparent/],
    ['all-zero trace id', { traceparent: '00-00000000000000000000000000000000-b7ad6b7169203331-01' }, 'traceparent', /W3C/],
    ['upper-case extension name', { extensions: { Tenant: 'x' } }, 'Tenant', /not a valid extension name/],
    ['extension name over 20', { extensions: { abcdefghijklmnopqrstu: 'x' } }, 'abcdefghijklmnopqrstu', /not a valid extension name/],
    ['extension shadowing an attribute', { extensions: { subject: 'x' } }, 'subject', /attribute of its own/],
    ['non-string extension', { extensions: { retries: 3 } }, 'retries', /non-empty string/],
    ['unknown top-level key (typo)', { partitionKey: 'o-1' }, 'partitionKey', /not a CloudEvent attribute/],
  ];

  it.each(cases)('%s', (_name, change, attribute, problem) => {
    let thrown: unknown;
    try {
      createEvent({ ...base, ...change });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidEventError);
    expect(thrown).toMatchObject({ code: 'EVKIT_ENVELOPE_INVALID_ATTRIBUTE', attribute });
    expect((thrown as Error).message).toMatch(problem);
  });

  it('accepts RFC 3339 offsets, fractions and lower-case separators', () => {
    for (const time of ['2026-01-02T03:04:05+05:30', '2026-01-02t03:04:05.123456z', '2024-02-29T23:59:60Z']) {
      expect(createEvent({ ...base, time }).time).toBe(time);
    }
  });

  it('validateEvent fills nothing in', () => {
    expect(() => validateEvent({ ...base, specversion: '1.0' } as never)).toThrow(/'id' is required/);
  });
});
