import { AsyncLocalStorage } from 'node:async_hooks';
import type { CloudEventAttributes } from './event';

// The event being handled, carried through async calls: an event published while handling
// another inherits its correlation id and names it as its cause, without threading it by hand.
const storage = new AsyncLocalStorage<CloudEventAttributes>();

/** Runs `fn` with `event` as the event being handled (the consumer does this around a handler). */
export function runWithEventContext<T>(event: CloudEventAttributes, fn: () => T): T {
  return storage.run(event, fn);
}

/** The event being handled, if any. */
export function activeEvent(): CloudEventAttributes | undefined {
  return storage.getStore();
}

/**
 * Correlation for a new event whose id is `id`: inside a handler it joins the handled event's
 * flow (its correlation id, or its id when it has none) and names it as the cause. Outside any
 * handler the event starts a workflow of its own: its correlation id is its own id. Explicit
 * values win (for example a correlation id taken from the incoming request).
 */
export function correlationFor(explicit: { correlationid?: string; causationid?: string }, id: string): {
  correlationid: string;
  causationid?: string;
} {
  const cause = activeEvent();
  const correlationid = explicit.correlationid ?? cause?.correlationid ?? cause?.id ?? id;
  const causationid = explicit.causationid ?? cause?.id;
  return { correlationid, ...(causationid === undefined ? {} : { causationid }) };
}
