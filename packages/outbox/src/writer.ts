import type { Span } from '@opentelemetry/api';
import type { ClientBase } from 'pg';
import type { AvroCodec, AvroSchema } from '@evkit/codec';
import { correlationFor, createEvent, headerText, newEventId, type CloudEvent, type CloudEventInit, type KafkaRecord } from '@evkit/envelope';
import { boundedErrorText } from '@evkit/errors';
import { recordSpanFailure, startProducerSpan, traceHeadersOf } from '@evkit/telemetry';
import { isRetriablePostgresError } from '@evkit/idempotency';
import { OutboxConfigError, OutboxEventError, OutboxTransactionError, OutboxWriteError } from './errors';
import { notifyReturningSql } from './notify';
import { HEADER_COLUMNS, outboxTable } from './table';

/**
 * An event to write: `source` defaults to the writer's; id, time, correlation and trace context
 * are filled in as @evkit/producer does. No `partitionkey` (it is the aggregate id) and no
 * `extensions` (no column carries them, so the relays could not).
 */
export type OutboxEventSpec<T> = Omit<CloudEventInit<T>, 'source' | 'specversion' | 'partitionkey' | 'extensions'> & { source?: string };

export interface OutboxWriteInput<T> {
  /** Names the topic (through `aggregateTypeToTopic`) and, with the id, the unit of relay order. */
  aggregateType: string;
  /** The record key and `partitionkey`: one aggregate's events keep their order. */
  aggregateId: string;
  event: OutboxEventSpec<T>;
  /** The Avro schema of `event.data`. */
  schema: AvroSchema;
}

export interface OutboxWritten<T> {
  event: CloudEvent<T>;
  topic: string;
  /** The record a direct publish would send; the relays send exactly this (key, value, headers). */
  record: KafkaRecord;
}

export interface OutboxWriterOptions {
  /** Encodes and enforces schemas (createAvroCodec, binary mode). */
  codec: AvroCodec;
  /** CloudEvents `source` of the events, e.g. `/orders-service`. */
  source: string;
  /** Default `evkit_outbox`. */
  table?: string;
  /** The topic of an aggregate type's events. Default: the aggregate type itself. */
  aggregateTypeToTopic?: (aggregateType: string) => string;
  /**
   * Wake the polling relay when the transaction commits: the INSERT ends in
   * `RETURNING pg_notify('<table>_wake', '')` (same statement, no extra round trip). Default true.
   * PostgreSQL serializes the commits of transactions that sent a NOTIFY, so with many concurrent
   * writers and no polling relay (Debezium reads the WAL), set it to false.
   */
  notify?: boolean;
}

export interface OutboxWriter {
  /**
   * Adds the event to the outbox through `client`, which must be inside the caller's transaction:
   * the event is relayed only if that transaction commits. The event is validated and encoded
   * (schema enforcement included) before any SQL runs, so a bad event throws a typed error and
   * the caller rolls back with its reason.
   */
  write<T>(client: ClientBase, input: OutboxWriteInput<T>): Promise<OutboxWritten<T>>;
}

// Lower case and canonical: PostgreSQL prints a uuid that way, and Debezium sends what it prints
// as ce_id, so any other spelling would change the id on the way.
const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// Kafka's legal topic characters; the relay route also relies on `|` and `,` never being in one.
const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
const COLUMNS = ['aggregatetype', 'topic', 'payload', 'tracingspancontext', ...new Set(HEADER_COLUMNS.map((c) => c.column))];

export function createOutboxWriter(options: OutboxWriterOptions): OutboxWriter {
  if (options === null || typeof options !== 'object') throw new OutboxConfigError('options are required');
  const { codec, source, aggregateTypeToTopic = (aggregateType: string) => aggregateType, notify = true } = options;
  if (!codec || typeof codec.encode !== 'function') throw new OutboxConfigError('codec is required (createAvroCodec)');
  if (typeof source !== 'string' || source.length === 0) throw new OutboxConfigError('source is required, e.g. "/orders-service"');
  if (typeof aggregateTypeToTopic !== 'function') throw new OutboxConfigError('aggregateTypeToTopic must be a function');
  if (typeof notify !== 'boolean') throw new OutboxConfigError(`notify must be a boolean, got ${String(notify)}`);
  const table = outboxTable(options.table);
  const insert =
    `INSERT INTO ${table.qualified} (${COLUMNS.map((c) => `"${c}"`).join(', ')}) ` +
    `VALUES (${COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})` +
    (notify ? notifyReturningSql(table) : '');

  return {
    async write<T>(client: ClientBase, input: OutboxWriteInput<T>): Promise<OutboxWritten<T>> {
      requireTransaction(client);
      const { aggregateType, aggregateId, event: spec, schema } = validateInput(input);
      const topic = aggregateTypeToTopic(aggregateType);
      if (typeof topic !== 'string' || !TOPIC.test(topic)) {
        throw new OutboxConfigError(`aggregateTypeToTopic(${JSON.stringify(aggregateType)}) returned ${JSON.stringify(topic)}, not a Kafka topic name`);
      }
      const id = spec.id ?? newEventId();
      const init = { source, ...spec, ...correlationFor(spec, id), id, partitionkey: aggregateId };
      // The PRODUCER span of a direct publish, here at write time: the consumer's span joins it.
      const span = startProducerSpan(topic, init);
      try {
        const event = createEvent<T>(spec.traceparent ? init : { ...init, ...traceHeadersOf(span.spanContext()) });
        if (!CANONICAL_UUID.test(event.id)) {
          throw new OutboxEventError(`event id ${JSON.stringify(event.id)} is not a lower-case UUID; the outbox id column is a uuid`);
        }
        const record = await codec.encode(topic, event, schema);
        const row = rowOf(record, { aggregatetype: aggregateType, topic, tracingspancontext: spanContextProperties(event) });
        try {
          await client.query(insert, COLUMNS.map((column) => row[column] ?? null));
        } catch (error) {
          throw new OutboxWriteError(`could not insert event ${event.id} into ${table.name}: ${boundedErrorText(error)}`, {
            cause: error,
            retriable: isRetriablePostgresError(error),
          });
        }
        span.end();
        return { event, topic, record };
      } catch (error) {
        endWithError(span, error);
        throw error;
      }
    },
  };
}

function requireTransaction(client: ClientBase): void {
  if (client === null || typeof client !== 'object' || typeof client.query !== 'function') {
    throw new OutboxConfigError('client must be a pg client (the one your transaction runs on)');
  }
  // A Pool would run the INSERT on a connection of its own, outside the caller's transaction.
  if ('totalCount' in client) throw new OutboxTransactionError('write takes the client of your transaction, not a pool');
  const status = typeof client.getTransactionStatus === 'function' ? client.getTransactionStatus() : undefined;
  if (status === 'I') {
    throw new OutboxTransactionError('the client is not inside a transaction: BEGIN first, so the event commits with your change or not at all');
  }
}

function validateInput<T>(input: OutboxWriteInput<T>): OutboxWriteInput<T> {
  if (input === null || typeof input !== 'object') throw new OutboxConfigError('write input is required');
  for (const name of ['aggregateType', 'aggregateId'] as const) {
    const value = input[name];
    if (typeof value !== 'string' || value.length === 0 || value.includes('\u0000')) {
      throw new OutboxConfigError(`${name} must be a non-empty string without NUL`);
    }
  }
  if (input.event === null || typeof input.event !== 'object') throw new OutboxConfigError('event is required');
  if (input.schema === undefined || input.schema === null) throw new OutboxConfigError('schema is required (the Avro schema of event.data)');
  const { partitionkey, extensions } = input.event as { partitionkey?: unknown; extensions?: unknown };
  if (partitionkey !== undefined && partitionkey !== input.aggregateId) {
    throw new OutboxEventError(`event.partitionkey ${JSON.stringify(partitionkey)} differs from aggregateId ${JSON.stringify(input.aggregateId)}; the aggregate id is the key`);
  }
  if (extensions !== undefined && Object.keys(extensions as object).length > 0) {
    throw new OutboxEventError(`event has extensions (${Object.keys(extensions as object).join(', ')}); the outbox has no column for them`);
  }
  return input;
}

/** The row for a record: each header in its column, the value as the payload. */
function rowOf(record: KafkaRecord, extra: Record<string, string | null>): Record<string, unknown> {
  const row: Record<string, unknown> = { ...extra, payload: record.value };
  const known = new Set<string>(HEADER_COLUMNS.map((c) => c.header));
  for (const header of Object.keys(record.headers)) {
    if (!known.has(header)) {
      // A structured-mode codec, or a header the envelope learned after this table was designed.
      throw new OutboxConfigError(`the codec wrote header ${header}, which has no outbox column; the outbox needs a binary-mode codec`);
    }
  }
  for (const { header, column, optional } of HEADER_COLUMNS) {
    const text = headerText(record.headers, header);
    if (text === undefined && !optional) throw new OutboxConfigError(`the codec wrote no ${header} header; the outbox needs a binary-mode codec`);
    row[column] = text ?? null;
  }
  return row;
}

/** W3C trace context as java.util.Properties text, where Debezium's ActivateTracingSpan reads it. */
function spanContextProperties(event: CloudEvent<unknown>): string | null {
  if (event.traceparent === undefined) return null;
  return `traceparent=${event.traceparent}\n` + (event.tracestate === undefined ? '' : `tracestate=${event.tracestate}\n`);
}

function endWithError(span: Span, error: unknown): void {
  recordSpanFailure(span, error);
  span.end();
}
