import { context as otelContext, ProxyTracerProvider, trace } from '@opentelemetry/api';
import { runWithEventContext } from '@evkit/envelope';
import type { IdempotencyStore } from '@evkit/idempotency';
import { spanContextFromTraceparent, withConsumerSpan } from '@evkit/telemetry';
import { HandlerTimeoutError } from './errors';
import type { HandlerContext, Middleware } from './handler';
import { HandlerAttempt } from './handler-attempt';

type Dedupe = Pick<IdempotencyStore, 'runOnce'>;

/** With `dedupeBatching`, the store of the record's partition batch; set on the record's context by the runner. */
export const BATCH_STORE = Symbol('evkit.batchStore');
type WithBatchStore = HandlerContext & { [BATCH_STORE]?: Dedupe };

/** Marks the context of a call under the timeout: its attempt can be abandoned. */
const TIMED = Symbol('evkit.timedAttempt');

/**
 * Side effects at most once per event id and consumer group. The handler runs inside the
 * store's transaction (`context.transaction`); a redelivered event that was already processed is
 * skipped and marked `context.duplicate`. Put it innermost: each attempt is one transaction.
 * Under the timeout, when the attempt's signal aborts (timeout, stop), the store ends the
 * transaction at once (rolled back) even if the handler never settles: its late writes cannot
 * commit. Without one, nothing abandons an attempt (stop waits for it), so no signal is made.
 */
export function dedupe(store: Dedupe): Middleware {
  return (next) => async (event, context) => {
    const outcome = await ((context as WithBatchStore)[BATCH_STORE] ?? store).runOnce(
      context.groupId,
      event.id,
      async (transaction) => {
        context.transaction = transaction;
        try {
          await next(event, context);
        } finally {
          context.transaction = undefined;
        }
      },
      (context as { [TIMED]?: true })[TIMED] ? { signal: context.signal } : undefined,
    );
    if (outcome.duplicate) {
      context.duplicate = true;
      context.logger.info('duplicate delivery absorbed: event already processed by this group', {
        topic: context.record.topic,
        partition: context.record.partition,
        offset: context.record.offset,
      });
    }
  };
}

/**
 * Fails the attempt after `ms` with a retriable `HandlerTimeoutError`, and aborts the signal the
 * layers inside it see. It does not wait for the handler: a handler that never settles releases
 * its slot, and failure routing outside treats the timeout as any failed attempt. Each call is
 * an attempt of its own (a blocking retry gets a fresh signal), so place it inside failure
 * routing and outside dedupe.
 */
export function timeout(ms: number): Middleware {
  return (next) => async (event, context) => {
    const attempt = new HandlerAttempt(() => context.signal);
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        const error = new HandlerTimeoutError(`handler for ${event.type} (event ${event.id}) took longer than ${ms} ms`, { retriable: true });
        attempt.abort(error);
        reject(error);
      }, ms);
    });
    try {
      await Promise.race([next(event, attemptContext(context, attempt)), expired]);
    } finally {
      clearTimeout(timer);
      attempt.done();
    }
  };
}

/**
 * The context one timed call sees: its own signal, and its own `transaction` (an abandoned
 * attempt clearing its transaction late must not clear the next attempt's). `duplicate` is the
 * record's: the consumer counts it.
 */
function attemptContext(context: HandlerContext, attempt: HandlerAttempt): HandlerContext {
  return Object.create(context, {
    signal: { get: () => attempt.signal },
    [TIMED]: { value: true },
    transaction: { value: undefined, writable: true },
    duplicate: {
      get: () => context.duplicate,
      set: (duplicate: boolean) => {
        context.duplicate = duplicate;
      },
    },
  }) as HandlerContext;
}

/**
 * A CONSUMER span per delivery (child of the producer's through the event's `traceparent`), and
 * the event as `activeEvent()` so that what the handler publishes carries its correlation and
 * causation. A retry is a new delivery: a span of its own.
 */
export function tracing(): Middleware {
  return (next) => (event, context) => {
    if (!tracingRegistered()) {
      // No tracing SDK: the span would be a non-recording one that only carries the producer's
      // trace context on (so that what the handler publishes continues the trace). Carry that
      // context alone: no span, no attributes object, no context switch for an event without one.
      const remote = spanContextFromTraceparent(event.traceparent, event.tracestate);
      const run = () => runWithEventContext(event, () => next(event, context));
      return remote ? otelContext.with(trace.setSpanContext(otelContext.active(), remote), run) : run();
    }
    return withConsumerSpan(
      { topic: context.record.topic, partition: context.record.partition, offset: context.record.offset, groupId: context.groupId },
      event,
      () => runWithEventContext(event, () => next(event, context)),
    );
  };
}

/** Whether a tracer provider (an SDK) is registered; checked per delivery, since one may be registered late. */
function tracingRegistered(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegateTracer('@evkit/consumer') !== undefined;
}
