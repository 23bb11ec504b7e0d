import { createHash, randomUUID } from 'node:crypto';
import { headerText, MalformedRecordError, type RecordHeaders } from '@evkit/envelope';
import type { IncomingRecord, PublisherTransport, RecordPosition, SubscriberTransport } from '@evkit/transport';
import { parseDeadLetterHeaders, type DeadLetterHeaders } from './bookkeeping';
import { RetryConfigError } from './errors';
import { originalHeaders, REPLAY_HEADERS } from './headers';

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
  partition?: number;
  /** Offsets of the dead-letter topic, inclusive. */
  fromOffset?: string;
  toOffset?: string;
}

export interface ReplayProgress {
  scanned: number;
  matched: number;
  replayed: number;
}

export interface ReplayOptions {
  /** Show what would be replayed, send nothing, record nothing. */
  dryRun?: boolean;
  /** `original` (default): the topic the record first failed on. Or a topic of your choice, e.g. a retry tier. */
  target?: 'original' | { topic: string };
  onProgress?: (progress: ReplayProgress) => void;
}

export interface ReplayReport extends ReplayProgress {
  dryRun: boolean;
  /** The consumer group that records how far this replay got; a rerun resumes after it. */
  replayGroup: string;
  entries: DeadLetterEntry[];
}

export interface ReplayerOptions {
  /** Sends the replayed records. The caller's: never disconnected here. */
  publisher: PublisherTransport;
  /** A fresh subscriber for each scan; made here through this function, so disconnected here when the scan ends. */
  subscriber: () => SubscriberTransport;
  now?: () => number;
}

export interface Replayer {
  list(deadLetterTopic: string, selection?: ReplaySelection): Promise<DeadLetterEntry[]>;
  show(deadLetterTopic: string, partition: number, offset: string): Promise<DeadLetterEntry | undefined>;
  /**
   * Sends the selected records back with their original key, value and headers plus replay
   * headers. Progress is committed in a consumer group named after the topic and selection, so
   * an interrupted replay resumes where it stopped and a finished one replays nothing again.
   */
  replay(deadLetterTopic: string, selection?: ReplaySelection, options?: ReplayOptions): Promise<ReplayReport>;
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
function safeHeader(headers: RecordHeaders, name: string): string | undefined {
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
function checkSelection(selection: ReplaySelection): void {
  offsetBound(selection.fromOffset, 'fromOffset');
  offsetBound(selection.toOffset, 'toOffset');
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
    (selection.partition === undefined || entry.position.partition === selection.partition) &&
    (fromOffset === undefined || offset >= fromOffset) &&
    (toOffset === undefined || offset <= toOffset)
  );
}

/** The group recording a replay's progress: one per dead-letter topic and selection. */
export function replayGroupFor(deadLetterTopic: string, selection: ReplaySelection, target: ReplayOptions['target']): string {
  const canonical = JSON.stringify({ selection: Object.entries(selection).sort(([a], [b]) => a.localeCompare(b)), target: target ?? 'original' });
  return `evkit-replay.${deadLetterTopic}.${createHash('sha256').update(canonical).digest('hex').slice(0, 12)}`;
}

export function createReplayer(options: ReplayerOptions): Replayer {
  if (options === null || typeof options !== 'object') throw new RetryConfigError('options are required');
  if (!options.publisher) throw new RetryConfigError('publisher is required');
  if (typeof options.subscriber !== 'function') throw new RetryConfigError('subscriber must be a function returning a fresh SubscriberTransport');
  const now = options.now ?? Date.now;

  /**
   * Reads the topic with consumer group `group`, from where `positionOf` (a replay's group) has
   * got to, up to the end as it was when the scan began, a batch at a time. `commit` moves the
   * group's position as batches are handled.
   */
  const scan = async (
    topic: string,
    scanOptions: { group: string; positionOf: string; commit: boolean },
    onBatch: (records: readonly IncomingRecord[]) => Promise<void>,
  ): Promise<void> => {
    const { group: groupId, commit } = scanOptions;
    const subscriber = options.subscriber();
    await subscriber.connect();
    try {
      const starts = new Map<number, bigint>();
      const ends = new Map<number, bigint>();
      for (const p of await subscriber.offsets(scanOptions.positionOf, [topic])) {
        const start = BigInt(p.committed) < 0n ? 0n : BigInt(p.committed);
        starts.set(p.partition, start);
        if (BigInt(p.highWatermark) > start) ends.set(p.partition, BigInt(p.highWatermark));
      }
      if (ends.size === 0) return;
      let failed = false;
      await new Promise<void>((resolve, reject) => {
        subscriber
          .run({
            groupId,
            topics: [topic],
            fromBeginning: true,
            handleBatch: async (batch) => {
              const end = ends.get(batch.partition);
              if (failed || end === undefined) return;
              const start = starts.get(batch.partition) ?? 0n;
              const records = batch.records.filter((r) => BigInt(r.offset) >= start && BigInt(r.offset) < end);
              if (records.length === 0) return;
              try {
                await onBatch(records);
              } catch (error) {
                // The caller hears of it and the scan ends uncommitted past the last good batch;
                // thrown to the subscriber it would be redelivered forever and never reported.
                failed = true;
                reject(error instanceof Error ? error : new Error(String(error)));
                return;
              }
              const last = BigInt(records.at(-1)!.offset);
              if (commit) await subscriber.commit({ topic, partition: batch.partition, offset: (last + 1n).toString() });
              if (last + 1n >= end) {
                ends.delete(batch.partition);
                if (ends.size === 0) resolve();
              }
            },
          })
          .catch(reject);
      });
    } finally {
      await subscriber.disconnect();
    }
  };

  const collect = async (topic: string, selection: ReplaySelection) => {
    checkSelection(selection);
    const entries: DeadLetterEntry[] = [];
    const group = `evkit-dlq-scan.${randomUUID()}`;
    await scan(topic, { group, positionOf: group, commit: false }, (records) => {
      for (const record of records) {
        const entry = readDeadLetterEntry(record);
        if (matchesSelection(entry, selection)) entries.push(entry);
      }
      return Promise.resolve();
    });
    return entries.sort((a, b) => a.position.partition - b.position.partition || Number(BigInt(a.position.offset) - BigInt(b.position.offset)));
  };

  return {
    list: (topic, selection = {}) => collect(topic, selection),
    async show(topic, partition, offset) {
      const [entry] = await collect(topic, { partition, fromOffset: offset, toOffset: offset });
      return entry;
    },
    async replay(topic, selection = {}, replayOptions = {}) {
      checkSelection(selection);
      const target = replayOptions.target ?? 'original';
      const replayGroup = replayGroupFor(topic, selection, target);
      const progress: ReplayProgress = { scanned: 0, matched: 0, replayed: 0 };
      const entries: DeadLetterEntry[] = [];
      const dryRun = replayOptions.dryRun ?? false;
      const onBatch = async (records: readonly IncomingRecord[]) => {
        const chosen = records.map(readDeadLetterEntry).filter((entry) => matchesSelection(entry, selection));
        progress.scanned += records.length;
        progress.matched += chosen.length;
        entries.push(...chosen);
        if (!dryRun && chosen.length > 0) {
          const replayedAt = new Date(now()).toISOString();
          await options.publisher.send(
            chosen.map((entry) => {
              const destination = target === 'original' ? entry.original.topic : target.topic;
              if (!destination) throw new RetryConfigError(`record ${topic}[${entry.position.partition}]@${entry.position.offset} names no original topic; give a target topic`);
              return {
                topic: destination,
                key: entry.record.key,
                value: entry.record.value,
                headers: {
                  ...originalHeaders(entry.record.headers),
                  [REPLAY_HEADERS.replayedAt]: replayedAt,
                  [REPLAY_HEADERS.replayedFrom]: `${topic}:${entry.position.partition}:${entry.position.offset}`,
                },
              };
            }),
          );
          progress.replayed += chosen.length;
        }
        replayOptions.onProgress?.({ ...progress });
      };
      // A dry run reads from where the replay has got to, like the replay would, but in a
      // throwaway group, so it moves nothing.
      const group = dryRun ? `evkit-dlq-scan.${randomUUID()}` : replayGroup;
      await scan(topic, { group, positionOf: replayGroup, commit: !dryRun }, onBatch);
      return { ...progress, dryRun, replayGroup, entries };
    },
  };
}
