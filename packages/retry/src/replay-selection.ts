import { headerText, MalformedRecordError, type RecordHeaders } from '@evkit/envelope';
import type { IncomingRecord, RecordPosition } from '@evkit/transport';
import { parseDeadLetterHeaders, type DeadLetterHeaders } from './bookkeeping';
import { RetryConfigError } from './errors';

// What a dead letter says about itself, and which dead letters a replay, park or list selects.

/** A dead-lettered record and what its headers say about the failure (each value checked). */
export interface DeadLetterEntry extends DeadLetterHeaders {
  position: RecordPosition;
  /** When it was dead-lettered, ms since the epoch. */
  timestamp: number;
  key: string | null;
  eventType: string | undefined;
  eventId: string | undefined;
  record: IncomingRecord;
}

export interface ReplaySelection {
  /** Dead-lettered at or after. */
  from?: Date;
  /** Dead-lettered before. */
  to?: Date;
  eventType?: string;
  key?: string;
  errorCode?: string;
  /** The error's class (`kafka_dlt-exception-fqcn`), e.g. `TypeError`. */
  errorClass?: string;
  partition?: number;
  /** Offsets of the dead-letter topic, inclusive. */
  fromOffset?: string;
  toOffset?: string;
  /** Only these records of the dead-letter topic (a hand-picked selection). */
  positions?: readonly { partition: number; offset: string }[];
}

export function readDeadLetterEntry(record: IncomingRecord): DeadLetterEntry {
  const { headers } = record;
  return {
    position: { topic: record.topic, partition: record.partition, offset: record.offset },
    timestamp: record.timestamp,
    key: record.key === null ? null : record.key.toString(),
    eventType: safeHeader(headers, 'ce_type'),
    eventId: safeHeader(headers, 'ce_id'),
    ...parseDeadLetterHeaders(headers),
    record,
  };
}

/** A dead-lettered record may be anything, duplicated headers included: never throw reading it. */
export function safeHeader(headers: RecordHeaders, name: string): string | undefined {
  try {
    return headerText(headers, name);
  } catch (error) {
    if (error instanceof MalformedRecordError) return undefined;
    throw error;
  }
}

/** A selection's offset bound as a number; anything else is a usage error, not a plain SyntaxError. */
function offsetBound(value: string | undefined, name: string): bigint | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^(0|[1-9]\d{0,18})$/.test(value)) throw new RetryConfigError(`${name} must be an offset (a non-negative decimal), got ${JSON.stringify(value)}`);
  return BigInt(value);
}

/** Refuses a selection before any record is read: a bad one would otherwise fail every batch. */
export function checkSelection(selection: ReplaySelection): void {
  offsetBound(selection.fromOffset, 'fromOffset');
  offsetBound(selection.toOffset, 'toOffset');
  if (selection.positions !== undefined) {
    const positions: readonly unknown[] = selection.positions;
    if (!Array.isArray(positions)) throw new RetryConfigError('positions must be a list of { partition, offset }');
    for (const p of positions as readonly ({ partition?: unknown; offset?: string } | undefined)[]) {
      const partition = p?.partition;
      if (typeof partition !== 'number' || !Number.isInteger(partition) || partition < 0) throw new RetryConfigError(`positions: partition must be a non-negative integer, got ${JSON.stringify(partition)}`);
      offsetBound(p?.offset ?? 'missing', 'positions: offset');
    }
  }
}

export function matchesSelection(entry: DeadLetterEntry, selection: ReplaySelection): boolean {
  const offset = BigInt(entry.position.offset);
  const fromOffset = offsetBound(selection.fromOffset, 'fromOffset');
  const toOffset = offsetBound(selection.toOffset, 'toOffset');
  return (
    (selection.from === undefined || entry.timestamp >= selection.from.getTime()) &&
    (selection.to === undefined || entry.timestamp < selection.to.getTime()) &&
    (selection.eventType === undefined || entry.eventType === selection.eventType) &&
    (selection.key === undefined || entry.key === selection.key) &&
    (selection.errorCode === undefined || entry.errorCode === selection.errorCode) &&
    (selection.errorClass === undefined || entry.errorClass === selection.errorClass) &&
    (selection.partition === undefined || entry.position.partition === selection.partition) &&
    (fromOffset === undefined || offset >= fromOffset) &&
    (toOffset === undefined || offset <= toOffset) &&
    (selection.positions === undefined || selection.positions.some((p) => p.partition === entry.position.partition && BigInt(p.offset) === offset))
  );
}
