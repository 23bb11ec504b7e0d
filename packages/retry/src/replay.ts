import { createHash, randomUUID } from 'node:crypto';
import type { IncomingRecord, OutgoingRecord, PublisherTransport, SubscriberTransport, TopicSpec } from '@evkit/transport';
import { RetryConfigError } from './errors';
import { originalHeaders, REPLAY_HEADERS, ROUTING_HEADROOM_BYTES } from './headers';
import { groupDeadLetters, PARK_HEADERS, parkedHeaders, parkedTopicFor, positionText, type DeadLetterGroup } from './park';
import { createScan, ensureTopicsWith } from './replay-scan';
import { checkSelection, matchesSelection, readDeadLetterEntry, safeHeader, type DeadLetterEntry, type ReplaySelection } from './replay-selection';
import { DEFAULT_TOPIC_NAMING, replayTopicName, type TopicNaming } from './routing';

export type { DeadLetterEntry, ReplaySelection } from './replay-selection';
export { matchesSelection, readDeadLetterEntry } from './replay-selection';

export interface ReplayProgress {
  scanned: number;
  matched: number;
  replayed: number;
}

/**
 * `group` (default): the failing group's replay topic, `<topic>.<group>.replay`, which only that
 * group reads. `original`: the source topic, which every group reads. Or a topic of your choice.
 */
export type ReplayTarget = 'group' | 'original' | { topic: string };

export interface ReplayOptions {
  /** Show what would be replayed, send nothing, record nothing. */
  dryRun?: boolean;
  target?: ReplayTarget;
  onProgress?: (progress: ReplayProgress) => void;
}

export interface ReplayReport extends ReplayProgress {
  dryRun: boolean;
  /** The consumer group that records how far this replay got; a rerun resumes after it. */
  replayGroup: string;
  /** Records per destination topic (what would go where, on a dry run). */
  destinations: Record<string, number>;
  entries: DeadLetterEntry[];
}

export interface ParkOptions {
  /** Why, recorded on each parked record (`evkit_dlt-parked-reason`). Required. */
  reason: string;
  dryRun?: boolean;
  onProgress?: (progress: { scanned: number; matched: number; parked: number }) => void;
}

export interface ParkReport {
  scanned: number;
  matched: number;
  parked: number;
  dryRun: boolean;
  parkedTopic: string;
  /** The consumer group that records how far this park got; a rerun resumes after it. */
  parkGroup: string;
  entries: DeadLetterEntry[];
}

export interface ReplayerOptions {
  /** Sends the replayed records. The caller's: never disconnected here. */
  publisher: PublisherTransport;
  /** A fresh subscriber for each scan; made here through this function, so disconnected here when the scan ends. */
  subscriber: () => SubscriberTransport;
  /** The consumers' topic naming, for their replay topics. Default: the routing's default. */
  topicNaming?: TopicNaming;
  now?: () => number;
}

export interface Replayer {
  /** The dead letters not parked. */
  list(deadLetterTopic: string, selection?: ReplaySelection): Promise<DeadLetterEntry[]>;
  show(deadLetterTopic: string, partition: number, offset: string): Promise<DeadLetterEntry | undefined>;
  /** The dead letters not parked, grouped by error code, error class and event type. */
  groups(deadLetterTopic: string, selection?: ReplaySelection): Promise<DeadLetterGroup[]>;
  /**
   * Sends the selected records (parked ones left out) with their original key, value and headers
   * plus replay headers, by default to the failing group's replay topic. Progress is committed
   * in a consumer group named after the topic, selection and target, so an interrupted replay
   * resumes where it stopped and a finished one replays nothing again.
   */
  replay(deadLetterTopic: string, selection?: ReplaySelection, options?: ReplayOptions): Promise<ReplayReport>;
  /** Moves the selected records to `parkedTopicFor(deadLetterTopic)` with the reason; resumable like a replay. */
  park(deadLetterTopic: string, selection: ReplaySelection, options: ParkOptions): Promise<ParkReport>;
}

/** The group recording a replay's progress: one per dead-letter topic, selection and target. */
export function replayGroupFor(deadLetterTopic: string, selection: ReplaySelection, target: ReplayOptions['target'], kind: 'replay' | 'park' = 'replay'): string {
  const canonical = JSON.stringify({ selection: Object.entries(selection).sort(([a], [b]) => a.localeCompare(b)), target: target ?? 'group' });
  return `evkit-${kind}.${deadLetterTopic}.${createHash('sha256').update(canonical).digest('hex').slice(0, 12)}`;
}

const byPosition = (a: DeadLetterEntry, b: DeadLetterEntry) => a.position.partition - b.position.partition || Number(BigInt(a.position.offset) - BigInt(b.position.offset));

export function createReplayer(options: ReplayerOptions): Replayer {
  if (options === null || typeof options !== 'object') throw new RetryConfigError('options are required');
  if (!options.publisher) throw new RetryConfigError('publisher is required');
  if (typeof options.subscriber !== 'function') throw new RetryConfigError('subscriber must be a function returning a fresh SubscriberTransport');
  const now = options.now ?? Date.now;
  const naming = options.topicNaming ?? DEFAULT_TOPIC_NAMING;
  const scan = createScan(options.subscriber);
  const throwaway = () => {
    const group = `evkit-dlq-scan.${randomUUID()}`;
    return { group, positionOf: group, commit: false };
  };

  /**
   * The positions of `topic` that its parked topic holds copies of. The parked topic is created
   * when missing (empty, like the routing's own topics): reading a missing one would take the
   * client's whole retry budget.
   */
  const parkedPositions = async (topic: string): Promise<Set<string>> => {
    const parked = parkedTopicFor(topic);
    const positions = new Set<string>();
    if (parked === topic || topic.endsWith('.parked')) return positions;
    await ensureTopicsWith(options.subscriber, [{ topic: parked, sizedLike: { topic, headroomBytes: ROUTING_HEADROOM_BYTES } }]);
    await scan(parked, throwaway(), (records) => {
      for (const record of records) {
        const from = safeHeader(record.headers, PARK_HEADERS.parkedFrom);
        if (from !== undefined) positions.add(from);
      }
      return Promise.resolve();
    });
    return positions;
  };
  const notParked = (parked: Set<string>) => (entry: DeadLetterEntry) => !parked.has(positionText(entry.position.topic, entry.position.partition, entry.position.offset));

  const collect = async (topic: string, selection: ReplaySelection) => {
    checkSelection(selection);
    const keep = notParked(await parkedPositions(topic));
    const entries: DeadLetterEntry[] = [];
    await scan(topic, throwaway(), (records) => {
      for (const record of records) {
        const entry = readDeadLetterEntry(record);
        if (matchesSelection(entry, selection) && keep(entry)) entries.push(entry);
      }
      return Promise.resolve();
    });
    return entries.sort(byPosition);
  };

  /**
   * Sends each selected, unparked record of `topic` as `toRecord` makes it, committing progress in
   * `group` (a dry run reads from that group's position in a throwaway group, moving nothing).
   */
  const redrive = async (
    topic: string,
    selection: ReplaySelection,
    run: { group: string; dryRun: boolean; toRecord: (entry: DeadLetterEntry, at: string) => OutgoingRecord; ensure: (entry: DeadLetterEntry) => TopicSpec | undefined },
    onProgress: (progress: ReplayProgress) => void,
  ) => {
    checkSelection(selection);
    const keep = notParked(await parkedPositions(topic));
    const progress: ReplayProgress = { scanned: 0, matched: 0, replayed: 0 };
    const entries: DeadLetterEntry[] = [];
    const destinations: Record<string, number> = {};
    const ensured = new Set<string>();
    const onBatch = async (records: readonly IncomingRecord[]) => {
      const chosen = records.map(readDeadLetterEntry).filter((entry) => matchesSelection(entry, selection) && keep(entry));
      progress.scanned += records.length;
      progress.matched += chosen.length;
      entries.push(...chosen);
      const at = new Date(now()).toISOString();
      // Every record's destination is worked out first: a dry run refuses what the replay would.
      const outgoing = chosen.map((entry) => run.toRecord(entry, at));
      for (const record of outgoing) destinations[record.topic] = (destinations[record.topic] ?? 0) + 1;
      if (!run.dryRun && outgoing.length > 0) {
        const missing = chosen.map(run.ensure).filter((spec): spec is TopicSpec => spec !== undefined && !ensured.has(spec.topic));
        await ensureTopicsWith(options.subscriber, [...new Map(missing.map((spec) => [spec.topic, spec])).values()]);
        for (const spec of missing) ensured.add(spec.topic);
        await options.publisher.send(outgoing);
        progress.replayed += outgoing.length;
      }
      onProgress({ ...progress });
    };
    const scanOptions = run.dryRun ? { ...throwaway(), positionOf: run.group } : { group: run.group, positionOf: run.group, commit: true };
    await scan(topic, scanOptions, onBatch);
    return { ...progress, destinations, entries };
  };

  return {
    list: (topic, selection = {}) => collect(topic, selection),
    async show(topic, partition, offset) {
      const [entry] = await collect(topic, { partition, fromOffset: offset, toOffset: offset });
      return entry;
    },
    groups: async (topic, selection = {}) => groupDeadLetters(await collect(topic, selection)),
    async replay(topic, selection = {}, replayOptions = {}) {
      const target = replayOptions.target ?? 'group';
      if (target !== 'group' && target !== 'original' && (target === null || typeof target !== 'object' || typeof target.topic !== 'string' || target.topic === '')) {
        throw new RetryConfigError(`target must be 'group', 'original' or { topic }, got ${JSON.stringify(target)}`);
      }
      const dryRun = replayOptions.dryRun ?? false;
      const replayGroup = replayGroupFor(topic, selection, target);
      const where = (entry: DeadLetterEntry) => `record ${topic}[${entry.position.partition}]@${entry.position.offset}`;
      const destinationOf = (entry: DeadLetterEntry): string => {
        if (typeof target === 'object') return target.topic;
        const source = entry.original.topic;
        if (!source) throw new RetryConfigError(`${where(entry)} names no original topic; give a target topic`);
        if (target === 'original') return source;
        if (!entry.consumerGroup) throw new RetryConfigError(`${where(entry)} names no consumer group; give a target topic, or replay to the original topic (every group)`);
        return replayTopicName(naming, source, entry.consumerGroup);
      };
      const report = await redrive(
        topic,
        selection,
        {
          group: replayGroup,
          dryRun,
          toRecord: (entry, at) => ({
            topic: destinationOf(entry),
            key: entry.record.key,
            value: entry.record.value,
            headers: { ...originalHeaders(entry.record.headers), [REPLAY_HEADERS.replayedAt]: at, [REPLAY_HEADERS.replayedFrom]: positionText(topic, entry.position.partition, entry.position.offset) },
          }),
          // A group's replay topic is the routing's: made like its retry topics, should the group's consumer not have made it yet.
          ensure: (entry) =>
            target === 'group' ? { topic: destinationOf(entry), sizedLike: { topic: entry.original.topic!, headroomBytes: ROUTING_HEADROOM_BYTES } } : undefined,
        },
        (progress) => replayOptions.onProgress?.(progress),
      );
      return { ...report, dryRun, replayGroup };
    },
    async park(topic, selection, parkOptions) {
      if (parkOptions === null || typeof parkOptions !== 'object' || typeof parkOptions.reason !== 'string' || parkOptions.reason.trim() === '') {
        throw new RetryConfigError('park needs a reason (a non-empty string)');
      }
      const parkedTopic = parkedTopicFor(topic);
      if (parkedTopic === topic || topic.endsWith('.parked')) throw new RetryConfigError(`${topic} is a parked topic already`);
      const dryRun = parkOptions.dryRun ?? false;
      const parkGroup = replayGroupFor(topic, selection ?? {}, { topic: parkedTopic }, 'park');
      const reason = parkOptions.reason.slice(0, 1024);
      const report = await redrive(
        topic,
        selection ?? {},
        {
          group: parkGroup,
          dryRun,
          toRecord: (entry, at) => ({ topic: parkedTopic, key: entry.record.key, value: entry.record.value, headers: parkedHeaders(entry, reason, at) }),
          ensure: () => undefined, // made by the scan of parked positions
        },
        (p) => parkOptions.onProgress?.({ scanned: p.scanned, matched: p.matched, parked: p.replayed }),
      );
      return { scanned: report.scanned, matched: report.matched, parked: report.replayed, dryRun, parkedTopic, parkGroup, entries: report.entries };
    },
  };
}
