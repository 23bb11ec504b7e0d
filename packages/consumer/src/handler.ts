import type { CloudEvent } from '@evkit/envelope';
import type { Logger } from '@evkit/telemetry';
import type { IncomingRecord } from '@evkit/transport';

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

/** Wraps a handler (Watermill style): retry, dedupe, timeout, tracing are all middleware. */
export type Middleware = (next: EventHandler) => EventHandler;

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
