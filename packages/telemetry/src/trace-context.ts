import { isSpanContextValid, TraceFlags, type SpanContext } from '@opentelemetry/api';
import { createTraceState } from '@opentelemetry/api';

// W3C Trace Context, read and written by hand: the global propagator belongs to the SDK, which a
// library must not require, and the event's `traceparent` attribute is all evkit carries.
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The remote span context a `traceparent` (and `tracestate`) names, or undefined when it names none. */
export function spanContextFromTraceparent(traceparent: string | undefined, tracestate?: string): SpanContext | undefined {
  if (traceparent === undefined) return undefined;
  const match = TRACEPARENT.exec(traceparent);
  if (!match) return undefined;
  const spanContext: SpanContext = {
    traceId: match[1]!,
    spanId: match[2]!,
    traceFlags: parseInt(match[3]!, 16) & TraceFlags.SAMPLED,
    isRemote: true,
    ...(tracestate ? { traceState: createTraceState(tracestate) } : {}),
  };
  return isSpanContextValid(spanContext) ? spanContext : undefined;
}

/** `traceparent` and `tracestate` for a span context; empty when the context is invalid (no tracing SDK). */
export function traceHeadersOf(spanContext: SpanContext): { traceparent?: string; tracestate?: string } {
  if (!isSpanContextValid(spanContext)) return {};
  const flags = (spanContext.traceFlags & TraceFlags.SAMPLED).toString(16).padStart(2, '0');
  const tracestate = spanContext.traceState?.serialize();
  return {
    traceparent: `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`,
    ...(tracestate ? { tracestate } : {}),
  };
}
