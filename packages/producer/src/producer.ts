import type { AvroCodec, AvroSchema } from '@evkit/codec';
import {
  correlationFor,
  createEvent,
  createGeneratedEvent,
  newEventId,
  nowTimestamp,
  type CloudEvent,
  type CloudEventInit,
  type GeneratedAttributes,
} from '@evkit/envelope';
import { boundedErrorText } from '@evkit/errors';
import { childLogger, createJsonLogger, eventLogFields, recordSpanFailure, startProducerSpan, traceHeadersOf, type Logger } from '@evkit/telemetry';
import { kafkaClientProblem, loadTransport, type KafkaClientName, type KafkaPublisherOptions, type OutgoingRecord, type PublisherTransport, type RecordPosition } from '@evkit/transport';
import { ProducerClosedError, ProducerConfigError } from './errors';

/** An event to publish: `source` defaults to the producer's; id, time and correlation are filled in. */
export type EventSpec<T> = Omit<CloudEventInit<T>, 'source' | 'specversion'> & { source?: string };

export interface PublishItem<T = unknown> {
  event: EventSpec<T>;
  /** The Avro schema of `event.data`. */
  schema: AvroSchema;
}

export interface Published<T> {
  event: CloudEvent<T>;
  position: RecordPosition;
}

export interface ProducerOptions<C extends KafkaClientName = KafkaClientName> {
  /** Encodes and enforces schemas (createAvroCodec). */
  codec: AvroCodec;
  /** The CloudEvents `source` of every event this service publishes, e.g. `/orders-service`. */
  source: string;
  /** A transport of your own: yours to disconnect, `disconnect()` leaves it open. By default one on `client` with `kafka`. */
  transport?: PublisherTransport;
  /** The Kafka client of the transport made from `kafka`: its package must be installed. Default `'kafkajs'`. */
  client?: C;
  /** The client's options (brokers, TLS, SASL...) for the transport the producer makes. */
  kafka?: KafkaPublisherOptions<C>;
  logger?: Logger;
}

export interface Producer {
  connect(): Promise<void>;
  /** Publishes one event; resolves once all in-sync replicas have it. */
  publish<T>(topic: string, event: EventSpec<T>, schema: AvroSchema): Promise<Published<T>>;
  /**
   * Publishes several events in one request. Every event is validated and encoded first: if
   * any fails, none is sent.
   */
  publishBatch(topic: string, items: readonly PublishItem[]): Promise<Published<unknown>[]>;
  /** Waits for publishes in flight, then closes the transport the producer created (not one passed in). */
  disconnect(): Promise<void>;
}

export function createProducer<C extends KafkaClientName = 'kafkajs'>(options: ProducerOptions<C>): Producer {
  if (options === null || typeof options !== 'object') throw new ProducerConfigError('options are required');
  if (!options.codec || typeof options.codec.encode !== 'function') throw new ProducerConfigError('codec is required (createAvroCodec)');
  if (typeof options.source !== 'string' || options.source.length === 0) throw new ProducerConfigError('source is required, e.g. "/orders-service"');
  if (!options.transport && !options.kafka) throw new ProducerConfigError('give either transport or kafka (Kafka client options)');
  const clientProblem = kafkaClientProblem(options.client);
  if (clientProblem !== undefined) throw new ProducerConfigError(clientProblem);
  // One rule across evkit: a transport passed in is the caller's to close, one made here is ours.
  const ownsTransport = options.transport === undefined;
  // Failures are never silent by default: JSON lines on stderr, warnings and errors only.
  const logger = options.logger ?? createJsonLogger('warn');
  // The default logger drops debug lines: then no per-event debug fields are built for nothing.
  const logsDebug = options.logger !== undefined;
  const transport = options.transport ?? loadTransport(options.client ?? 'kafkajs').createPublisher(options.kafka!, options.logger);
  const { codec } = options;
  // The producer's own source is checked once, here, rather than in every event; a bad one
  // fails each publish that uses it, as before, through the full check.
  const sourceValid = isValidSource(options.source);
  const inFlight = new Set<Promise<unknown>>();
  let closing = false;

  const track = <R>(work: Promise<R>): Promise<R> => {
    inFlight.add(work);
    const forget = () => inFlight.delete(work);
    work.then(forget, forget);
    return work;
  };

  const publishAll = async (topic: string, items: readonly PublishItem[]): Promise<Published<unknown>[]> => {
    if (closing) throw new ProducerClosedError(`producer is disconnecting; ${items.length} event(s) to ${topic} not sent`);
    // Spans first, so the event carries the producer span's trace context to the consumer.
    const prepared = items.map(({ event: spec, schema }) => {
      const id = spec.id ?? newEventId();
      const init: CloudEventInit & { id: string } = { source: options.source, ...spec, ...correlationFor(spec, id), id };
      const span = startProducerSpan(topic, init);
      try {
        if (!spec.traceparent) Object.assign(init, traceHeadersOf(span.spanContext()));
        // What the producer made itself (the id, the time, its own source, correlation from the
        // handled event or the id, trace context from its span) is not checked again.
        const generated: GeneratedAttributes = {
          id: spec.id === undefined,
          time: spec.time === undefined,
          source: spec.source === undefined && sourceValid,
          correlation: spec.correlationid === undefined && spec.causationid === undefined,
          trace: spec.traceparent === undefined && spec.tracestate === undefined,
        };
        const event =
          spec.time === undefined || typeof spec.time === 'string'
            ? createGeneratedEvent({ ...init, time: spec.time ?? nowTimestamp() }, generated)
            : createEvent(init);
        return { event, schema, span };
      } catch (error) {
        span.end();
        throw error;
      }
    });
    const endSpans = (error?: unknown) => {
      for (const { span } of prepared) {
        if (error !== undefined) recordSpanFailure(span, error);
        span.end();
      }
    };
    try {
      // Without a promise per record once the schema id is cached (encodeIfReady); the first use
      // of a schema, or a codec without it, goes through encode.
      const records: OutgoingRecord[] = new Array<OutgoingRecord>(prepared.length);
      let pending: number[] | undefined;
      for (let i = 0; i < prepared.length; i += 1) {
        const { event, schema } = prepared[i]!;
        const record = codec.encodeIfReady?.(topic, event, schema);
        if (record === undefined) (pending ??= []).push(i);
        else records[i] = { topic, key: record.key, value: record.value, headers: record.headers };
      }
      if (pending) {
        await Promise.all(
          pending.map(async (i) => {
            const { event, schema } = prepared[i]!;
            records[i] = { topic, ...(await codec.encode(topic, event, schema)) };
          }),
        );
      }
      const positions = await transport.send(records);
      endSpans();
      return prepared.map(({ event }, i) => {
        if (logsDebug) logger.debug('published', { ...eventLogFields(event), topic, partition: positions[i]!.partition, offset: positions[i]!.offset });
        return { event, position: positions[i]! };
      });
    } catch (error) {
      endSpans(error);
      for (const { event } of prepared) {
        childLogger(logger, eventLogFields(event)).error('publish failed', {
          topic,
          error: boundedErrorText(error),
          code: (error as { code?: string }).code,
        });
      }
      throw error;
    }
  };

  return {
    connect: () => transport.connect(),
    async publish<T>(topic: string, event: EventSpec<T>, schema: AvroSchema) {
      const [published] = await track(publishAll(topic, [{ event, schema }]));
      return published as Published<T>;
    },
    publishBatch(topic, items) {
      if (items.length === 0) return Promise.resolve([]);
      return track(publishAll(topic, items));
    },
    async disconnect() {
      closing = true;
      await Promise.allSettled([...inFlight]);
      if (ownsTransport) await transport.disconnect();
    },
  };
}

/** Whether `source` passes the envelope's check of `source` (non-empty, no white space). */
function isValidSource(source: string): boolean {
  try {
    createEvent({ source, type: 'dev.evkit.source-check', data: null });
    return true;
  } catch {
    return false;
  }
}
