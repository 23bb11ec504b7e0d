import type { ClientBase } from 'pg';
import { createAvroCodec, createInMemoryRegistry, InvalidPayloadError } from '@evkit/codec';
import { createEvent, InvalidEventError, runWithEventContext } from '@evkit/envelope';
import { OutboxConfigError, OutboxEventError, OutboxTransactionError, OutboxWriteError } from './errors';
import { createOutboxWriter } from './writer';

const schema = { type: 'record', name: 'OrderPlaced', namespace: 'dev.evkit.test', fields: [{ name: 'amountCents', type: 'int' }] };

/** A pg client inside a transaction that records its queries. */
function fakeClient(status: 'I' | 'T' | 'E' = 'T', fail?: Error) {
  const queries: { text: string; values: unknown[] }[] = [];
  const client = {
    getTransactionStatus: () => status,
    query: async (text: string, values: unknown[]) => {
      if (fail) throw fail;
      queries.push({ text, values });
      return { rowCount: 1, rows: [] };
    },
  };
  return { client: client as unknown as ClientBase, queries };
}

function rowOf(query: { text: string; values: unknown[] }): Record<string, unknown> {
  const columns = /\(([^)]*)\) VALUES/.exec(query.text)![1]!.split(', ').map((c) => c.replace(/"/g, ''));
  return Object.fromEntries(columns.map((c, i) => [c, query.values[i]]));
}

describe('createOutboxWriter', () => {
  const codec = createAvroCodec({ registry: createInMemoryRegistry() });
  const writer = createOutboxWriter({ codec, source: '/orders-service' });

  it('writes one row whose columns are the headers, key and value of the record a direct publish sends', async () => {
    const { client, queries } = fakeClient();
    const written = await writer.write(client, {
      aggregateType: 'orders',
      aggregateId: 'o-1',
      event: { type: 'dev.evkit.order.placed', subject: 'order/o-1', data: { amountCents: 1250 } },
      schema,
    });
    expect(written.topic).toBe('orders');
    expect(written.event).toMatchObject({ source: '/orders-service', partitionkey: 'o-1', subject: 'order/o-1' });
    // Encoding the same event directly gives the same record.
    expect(await codec.encode('orders', written.event, schema)).toEqual(written.record);
    expect(queries).toHaveLength(1);
    expect(queries[0]!.text).toMatch(/^INSERT INTO "evkit_outbox" \(/);
    const row = rowOf(queries[0]!);
    expect(row).toEqual({
      aggregatetype: 'orders',
      topic: 'orders',
      payload: written.record.value,
      tracingspancontext: null,
      id: written.event.id,
      source: '/orders-service',
      specversion: '1.0',
      type: 'dev.evkit.order.placed',
      subject: 'order/o-1',
      time: written.event.time,
      datacontenttype: 'application/avro',
      dataschema: null,
      correlationid: written.event.id, // a publish outside any handler starts its own flow
      causationid: null,
      aggregateid: 'o-1',
      traceparent: null,
      tracestate: null,
    });
    expect(written.record.key).toBe('o-1');
    expect(written.record.headers).toEqual({
      ce_id: written.event.id,
      ce_correlationid: written.event.id,
      ce_source: '/orders-service',
      ce_specversion: '1.0',
      ce_type: 'dev.evkit.order.placed',
      ce_subject: 'order/o-1',
      ce_time: written.event.time,
      'content-type': 'application/avro',
      ce_partitionkey: 'o-1',
    });
  });

  it('joins the flow of the event being handled, and writes trace context where Debezium reads it', async () => {
    const { client, queries } = fakeClient();
    const cause = createEvent({ source: '/checkout', type: 'checkout.done', correlationid: 'flow-7', data: null });
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const written = await runWithEventContext(cause, () =>
      writer.write(client, { aggregateType: 'orders', aggregateId: 'o-2', event: { type: 't', traceparent, tracestate: 'k=v', data: { amountCents: 1 } }, schema }),
    );
    expect(written.event).toMatchObject({ correlationid: 'flow-7', causationid: cause.id, traceparent });
    expect(rowOf(queries[0]!)).toMatchObject({ correlationid: 'flow-7', causationid: cause.id, tracingspancontext: `traceparent=${traceparent}\ntracestate=k=v\n` });
  });

  it('maps the aggregate type to a topic, used for the subject and the row', async () => {
    const { client, queries } = fakeClient();
    const prefixed = createOutboxWriter({ codec, source: '/s', table: 'app.outbox', aggregateTypeToTopic: (type) => `evkit.${type}.v1` });
    expect((await prefixed.write(client, { aggregateType: 'order', aggregateId: 'o', event: { type: 't', data: { amountCents: 2 } }, schema })).topic).toBe('evkit.order.v1');
    expect(queries[0]!.text).toMatch(/^INSERT INTO "app"."outbox"/);
    expect(queries[0]!.text).toMatch(/ RETURNING pg_notify\('app.outbox_wake', ''\)$/);
    const bad = createOutboxWriter({ codec, source: '/s', aggregateTypeToTopic: () => 'no|pipes' });
    await expect(bad.write(client, { aggregateType: 'x', aggregateId: 'o', event: { type: 't', data: { amountCents: 2 } }, schema })).rejects.toThrow(/not a Kafka topic name/);
  });

  it('wakes the polling relay from the same statement by default, and not with notify: false', async () => {
    const input = { aggregateType: 'orders', aggregateId: 'o', event: { type: 't', data: { amountCents: 1 } }, schema };
    const notifying = fakeClient();
    await writer.write(notifying.client, input);
    expect(notifying.queries).toHaveLength(1);
    expect(notifying.queries[0]!.text).toMatch(/\) RETURNING pg_notify\('evkit_outbox_wake', ''\)$/);
    const silent = fakeClient();
    await createOutboxWriter({ codec, source: '/s', notify: false }).write(silent.client, input);
    expect(silent.queries[0]!.text).not.toMatch(/pg_notify/);
    expect(rowOf(silent.queries[0]!)).toEqual(rowOf({ ...notifying.queries[0]!, values: silent.queries[0]!.values }));
    expect(() => createOutboxWriter({ codec, source: '/s', notify: 'no' as never })).toThrow(/notify must be a boolean/);
  });

  it('throws before any SQL when the data breaks the schema or the event is invalid', async () => {
    const { client, queries } = fakeClient();
    const write = (event: object) => writer.write(client, { aggregateType: 'orders', aggregateId: 'o-3', event: event as never, schema });
    await expect(write({ type: 't', data: { amountCents: 'lots' } })).rejects.toBeInstanceOf(InvalidPayloadError);
    await expect(write({ type: '', data: { amountCents: 1 } })).rejects.toBeInstanceOf(InvalidEventError);
    await expect(write({ type: 't', id: 'order-3', data: { amountCents: 1 } })).rejects.toThrow(OutboxEventError);
    await expect(write({ type: 't', id: '0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B', data: { amountCents: 1 } })).rejects.toThrow(/lower-case UUID/);
    await expect(write({ type: 't', extensions: { tenant: 'a' }, data: { amountCents: 1 } })).rejects.toThrow(/extensions \(tenant\)/);
    await expect(write({ type: 't', partitionkey: 'other', data: { amountCents: 1 } })).rejects.toThrow(/differs from aggregateId/);
    expect(queries).toHaveLength(0);
  });

  it('refuses a client outside a transaction, or a pool: the row would commit on its own', async () => {
    const input = { aggregateType: 'orders', aggregateId: 'o', event: { type: 't', data: { amountCents: 1 } }, schema };
    await expect(writer.write(fakeClient('I').client, input)).rejects.toBeInstanceOf(OutboxTransactionError);
    const pool = { ...fakeClient().client, totalCount: 3 } as unknown as ClientBase;
    await expect(writer.write(pool, input)).rejects.toThrow(/not a pool/);
    await expect(writer.write(undefined as never, input)).rejects.toBeInstanceOf(OutboxConfigError);
  });

  it('types an INSERT failure, retriable when the database says so', async () => {
    const input = { aggregateType: 'orders', aggregateId: 'o', event: { type: 't', data: { amountCents: 1 } }, schema };
    const duplicate = Object.assign(new Error('duplicate key value violates unique constraint'), { severity: 'ERROR', code: '23505' });
    await expect(writer.write(fakeClient('T', duplicate).client, input)).rejects.toMatchObject({ code: 'EVKIT_OUTBOX_WRITE_FAILED', retriable: false });
    const deadlock = Object.assign(new Error('deadlock detected'), { severity: 'ERROR', code: '40P01' });
    const error = await writer.write(fakeClient('T', deadlock).client, input).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutboxWriteError);
    expect(error).toMatchObject({ retriable: true, cause: deadlock });
  });

  it('needs a binary-mode codec: a structured record has no columns to go to', async () => {
    const structured = createOutboxWriter({ codec: createAvroCodec({ registry: createInMemoryRegistry(), mode: 'structured' }), source: '/s' });
    await expect(
      structured.write(fakeClient().client, { aggregateType: 'orders', aggregateId: 'o', event: { type: 't', data: { amountCents: 1 } }, schema }),
    ).rejects.toThrow(/binary-mode codec/);
  });

  it('validates its options at the edge', () => {
    expect(() => createOutboxWriter({ codec: undefined as never, source: '/s' })).toThrow(/codec is required/);
    expect(() => createOutboxWriter({ codec, source: '' })).toThrow(/source is required/);
    expect(() => createOutboxWriter({ codec, source: '/s', table: 'Bad' })).toThrow(OutboxConfigError);
  });
});
