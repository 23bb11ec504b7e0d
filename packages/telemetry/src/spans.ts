import { context, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import type { CloudEventAttributes } from '@evkit/envelope';
import { boundedErrorText, boundedText } from '@evkit/errors';
import { spanContextFromTraceparent } from './trace-context';

const TRACER_NAME = '@evkit/telemetry';

function tracer() {
  return trace.getTracer(TRACER_NAME);
}

/** The attributes a span records; a draft event before its trace context is set has them. */
export type SpanEventAttributes = Pick<
  CloudEventAttributes,
  'id' | 'source' | 'type' | 'subject' | 'partitionkey' | 'correlationid' | 'causationid'
>;

// OpenTelemetry messaging semantic conventions (1.27+), plus CloudEvents and correlation.
function eventAttributes(event: SpanEventAttributes): Attributes {
  return {
    'messaging.message.id': event.id,
    'cloudevents.event_id': event.id,
    'cloudevents.event_source': event.source,
    'cloudevents.event_type': event.type,
    ...(event.subject === undefined ? {} : { 'cloudevents.event_subject': event.subject }),
    ...(event.partitionkey === undefined ? {} : { 'messaging.kafka.message.key': event.partitionkey }),
    ...(event.correlationid === undefined ? {} : { 'evkit.correlation_id': event.correlationid }),
    ...(event.causationid === undefined ? {} : { 'evkit.causation_id': event.causationid }),
  };
}

/** A PRODUCER span for publishing `event` to `topic`, child of the active span. The caller ends it. */
export function startProducerSpan(topic: string, event: SpanEventAttributes): Span {
  return tracer().startSpan(`send ${topic}`, {
    kind: SpanKind.PRODUCER,
    attributes: {
      'messaging.system': 'kafka',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'send',
      'messaging.destination.name': topic,
      ...eventAttributes(event),
    },
  });
}

export interface ConsumedRecordInfo {
  topic: string;
  partition: number;
  offset: string;
  groupId: string;
}

/**
 * Runs `fn` inside a CONSUMER span whose parent is the span the event's `traceparent` names, so
 * the consumer continues the producer's trace. Errors mark the span and propagate.
 */
export async function withConsumerSpan<T>(record: ConsumedRecordInfo, event: CloudEventAttributes, fn: (span: Span) => Promise<T>): Promise<T> {
  const remote = spanContextFromTraceparent(event.traceparent, event.tracestate);
  const parent = remote ? trace.setSpanContext(context.active(), remote) : context.active();
  const span = tracer().startSpan(
    `process ${record.topic}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'process',
        'messaging.operation.name': 'process',
        'messaging.destination.name': record.topic,
        'messaging.destination.partition.id': String(record.partition),
        'messaging.consumer.group.name': record.groupId,
        'messaging.kafka.offset': Number(record.offset),
        ...eventAttributes(event),
      },
    },
    parent,
  );
  try {
    const result = await context.with(trace.setSpan(parent, span), () => fn(span));
    span.setStatus({ code: SpanStatusCode.OK });
    return result;
  } catch (error) {
    recordSpanFailure(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/**
 * Marks the span failed with the error. Spans go to a collector as log lines do, so the
 * message and stack are redacted and bounded like them.
 */
export function recordSpanFailure(span: Span, error: unknown): void {
  const err = error instanceof Error ? error : undefined;
  const message = boundedErrorText(error);
  span.recordException({ name: err?.name ?? typeof error, message, ...(err?.stack === undefined ? {} : { stack: boundedText(err.stack) }) });
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}
