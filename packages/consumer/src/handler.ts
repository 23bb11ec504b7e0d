import type { CloudEvent } from '@evkit/envelope';
import type { Logger } from '@evkit/telemetry';
import type { IncomingRecord, TopicSpec } from '@evkit/transport';

/** What a handler knows besides the event. */
export interface HandlerContext<TTransaction = unknown> {
  readonly record: IncomingRecord;
  readonly groupId: string;
  /** Writer schema id of the record's value. */
  readonly schemaId: number;
  /** Aborted when the handler times out or the consumer stops: stop work that honours it. */
  readonly signal: AbortSignal;
  /** Lines carry the event id, type, correlation and causation ids. */
  readonly logger: Logger;
  /**
   * With an idempotency store: its transaction (a `pg` client for PostgreSQL). Do the handler's
   * database work on it, so it commits together with the processed-event row.
   */
  transaction: TTransaction | undefined;
  /** Set by the dedupe middleware when the event had been processed before. */
  duplicate: boolean;
}

/** The one handler signature. */
export type EventHandler<T = unknown, TTransaction = unknown> = (
  event: CloudEvent<T>,
  context: HandlerContext<TTransaction>,
) => Promise<void>;

/**
 * Wraps a handler (Watermill style): tracing, failure routing, the timeout and dedupe are all
 * middleware, listed in one order the user can change (see `ConsumerOptions.middleware`).
 */
export interface Middleware {
  (next: EventHandler): EventHandler;
  /** Set by failure routing (`@evkit/retry`): what it needs of the consumer besides the handler chain. */
  readonly failureRouting?: FailureRoutingHooks;
}

/** The consumer's own middleware, named where a list gives the order: `tracing`, `timeout` (`handlerTimeoutMs`), `dedupe` (`idempotency`). */
export type BuiltInMiddleware = 'tracing' | 'timeout' | 'dedupe';

/**
 * What failure routing asks of the consumer it is listed in: more topics to read and create,
 * records held back until due, and a place for records no handler can take.
 */
export interface FailureRoutingHooks {
  /** The consumer group it routes for: it must be the consumer's. */
  readonly groupId: string;
  /** Topics to read besides `sourceTopics` (retry tiers), and topics to create at start, sized like their source. */
  topicsFor(sourceTopics: readonly string[]): { subscribe: string[]; ensure: TopicSpec[] };
  /** When a record may be handled, ms since the epoch; undefined: now. */
  deferUntil(record: IncomingRecord): number | undefined;
  /** Undecodable records, and unknown types with `unknownEventTypes: 'dead-letter'`. */
  readonly deadLetter: DeadLetterSink;
}

/** Applies middleware so the first listed is the outermost. */
export function compose(middleware: readonly Middleware[], handler: EventHandler): EventHandler {
  return middleware.reduceRight<EventHandler>((next, wrap) => wrap(next), handler);
}

/** Why a record is dead-lettered; `malformed-headers`: forged or corrupt retry bookkeeping (no handler ran). */
export type DeadLetterReason = 'decode' | 'unknown-type' | 'handler' | 'malformed-headers';

export interface DeadLetterInfo {
  groupId: string;
  reason: DeadLetterReason;
  /** The handler (its event type) that failed, when one ran. */
  handler?: string;
  /** Attempts made, counting this one. */
  attempts: number;
  /** When the first attempt failed, ms since the epoch. */
  firstFailureAt?: number;
}

/**
 * Where records go that cannot be handled: undecodable, of an unknown type, or failed for good.
 * It must not resolve until the record is safely stored: the source offset is committed after.
 */
export interface DeadLetterSink {
  deadLetter(record: IncomingRecord, error: unknown, info: DeadLetterInfo): Promise<void>;
}
