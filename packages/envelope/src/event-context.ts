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
 * Correlation for a new event: inside a handler it joins the handled event's flow (its
 * correlation id, or its id when it has none) and names it as the cause. Explicit values win.
 */
export function correlationFor(explicit: { correlationid?: string; causationid?: string }): {
  correlationid?: string;
  causationid?: string;
} {
  const cause = activeEvent();
  const correlationid = explicit.correlationid ?? cause?.correlationid ?? cause?.id;
  const causationid = explicit.causationid ?? cause?.id;
  return {
    ...(correlationid === undefined ? {} : { correlationid }),
    ...(causationid === undefined ? {} : { causationid }),
  };
}
