import { metrics } from '@opentelemetry/api';
import {
  jittered as spread,
  MAX_TIMER_MS,
  sleep,
  type DeadLetterInfo,
  type DeadLetterSink,
  type FailureRoutingHooks,
  type HandlerContext,
  type Middleware,
} from '@evkit/consumer';
import { boundedErrorText, isBatchFailure, isEvkitError } from '@evkit/errors';
import type { RecordHeaders } from '@evkit/envelope';
import type { IncomingRecord, PublisherTransport, TopicSpec } from '@evkit/transport';
import { MAX_ATTEMPTS, parseRetryBookkeeping, type RetryBookkeeping } from './bookkeeping';
import { createDeferralClock } from './deferral';
import { FailureRoutingError, RetryConfigError, type MalformedRetryHeadersError } from './errors';
import { describeFailure, DLT_HEADERS, int32, int64, originalHeaders, RETRY_HEADERS, ROUTING_HEADROOM_BYTES } from './headers';

export interface TopicNaming {
  /** Default `<topic>.<group>.retry.<delayMs>`: retries belong to one group, not to every reader of the topic. */
  retry(sourceTopic: string, groupId: string, delayMs: number): string;
  /** Default `<topic>.<group>.dlq`: one dead-letter topic per source topic and group. */
  deadLetter(sourceTopic: string, groupId: string): string;
  /**
   * Default `<topic>.<group>.replay`: where a replay sends a group's dead letters, read by that
   * group only, so the other groups of the source topic never see a replayed record.
   */
  replay?(sourceTopic: string, groupId: string): string;
}

export const DEFAULT_TOPIC_NAMING: Required<TopicNaming> = {
  retry: (topic, groupId, delayMs) => `${topic}.${groupId}.retry.${delayMs}`,
  deadLetter: (topic, groupId) => `${topic}.${groupId}.dlq`,
  replay: (topic, groupId) => `${topic}.${groupId}.replay`,
};

/** The group's replay topic under `naming`; a naming written before replay topics existed gets the default. */
export function replayTopicName(naming: TopicNaming, sourceTopic: string, groupId: string): string {
  return (naming.replay ?? DEFAULT_TOPIC_NAMING.replay)(sourceTopic, groupId);
}

export interface FailureRoutingOptions {
  /** Sends retry and dead-letter records as they are: key, value bytes and headers unchanged. */
  publisher: PublisherTransport;
  groupId: string;
  /**
   * `non-blocking` (default): a failed record moves to a retry topic and the partition goes on;
   * this trades per-key order for availability. `blocking`: retried in place; order holds.
   */
  mode?: 'non-blocking' | 'blocking';
  /** Attempts in all, the first included. Default 4, at most 1000. */
  maxAttempts?: number;
  /** Delay before each retry; the last repeats. Default 1 s, 10 s, 60 s. Non-blocking: one topic per distinct delay. */
  delaysMs?: readonly number[];
  /** Spread of each delay, as a fraction: 0.2 means ±20 %. Default 0.2. */
  jitter?: number;
  /** Blocking mode, after the last attempt: `dead-letter` (default) and go on, or `stop` the partition. */
  whenExhausted?: 'dead-letter' | 'stop';
  /** Default: an evkit error's own `retriable` flag; any other error is retriable. */
  isRetriable?: (error: unknown) => boolean;
  topicNaming?: TopicNaming;
  /** Clock, for tests. */
  now?: () => number;
}

export interface FailureRouting extends DeadLetterSink {
  /**
   * List it in the consumer's `middleware`: it retries or dead-letters every failed attempt (a
   * timed-out one included), and tells the consumer its retry topics (read, and created with the
   * dead-letter topic at start, sized like their source), when retry records are due, and where
   * undecodable records go. By default the consumer places it outside the timeout.
   */
  readonly middleware: Middleware & { readonly failureRouting: FailureRoutingHooks };
  /** The retry topics a consumer of `sourceTopics` must also read (non-blocking mode). */
  retryTopics(sourceTopics: readonly string[]): string[];
  readonly deadLetterTopic: (sourceTopic: string) => string;
  /** The group's replay topic for `sourceTopic`, read in both modes; its records are handled as fresh records of the source topic. */
  readonly replayTopic: (sourceTopic: string) => string;
  /** When a retry record is due (the consumer's `deferUntil`). */
  readonly deferUntil: (record: IncomingRecord) => number | undefined;
}

export function defaultIsRetriable(error: unknown): boolean {
  return isEvkitError(error) ? error.retriable : true;
}

export function createFailureRouting(options: FailureRoutingOptions): FailureRouting {
  if (options === null || typeof options !== 'object') throw new RetryConfigError('options are required');
  if (!options.publisher || typeof options.publisher.send !== 'function') throw new RetryConfigError('publisher is required (a PublisherTransport)');
  if (typeof options.groupId !== 'string' || options.groupId.length === 0) throw new RetryConfigError('groupId is required');
  const mode = options.mode ?? 'non-blocking';
  if (mode !== 'non-blocking' && mode !== 'blocking') throw new RetryConfigError(`mode must be non-blocking or blocking, got ${String(mode)}`);
  const maxAttempts = options.maxAttempts ?? 4;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > MAX_ATTEMPTS) {
    throw new RetryConfigError(`maxAttempts must be an integer from 1 to ${MAX_ATTEMPTS}, got ${maxAttempts}`);
  }
  const delaysMs = options.delaysMs ?? [1000, 10_000, 60_000];
  // A delay is a timer: Node fires one longer than 2^31-1 ms at once.
  if (delaysMs.length === 0 || delaysMs.some((d) => !Number.isInteger(d) || d < 0 || d > MAX_TIMER_MS)) {
    throw new RetryConfigError(`delaysMs must be a non-empty list of integers from 0 to ${MAX_TIMER_MS}`);
  }
  const jitter = options.jitter ?? 0.2;
  if (!(jitter >= 0 && jitter < 1)) throw new RetryConfigError(`jitter must be in [0, 1), got ${jitter}`);
  const whenExhausted = options.whenExhausted ?? 'dead-letter';
  const isRetriable = options.isRetriable ?? defaultIsRetriable;
  const naming = options.topicNaming ?? DEFAULT_TOPIC_NAMING;
  const now = options.now ?? Date.now;
  const { publisher, groupId } = options;
  const deadLettered = metrics.getMeter('@evkit/retry').createCounter('evkit.dlq.records', { description: 'Records sent to a dead-letter topic' });
  const retried = metrics.getMeter('@evkit/retry').createCounter('evkit.retry.records', { description: 'Records sent to a retry topic' });

  const delayFor = (attempt: number) => delaysMs[Math.min(attempt - 1, delaysMs.length - 1)]!;
  // Jitter is capped so that a jittered delay, too, stays a valid timer.
  const jittered = (delay: number) => spread(delay, jitter);
  const tierDelays = mode === 'blocking' ? [] : [...new Set(delaysMs.slice(0, Math.max(0, maxAttempts - 1)))];
  /** The delay of `topic` when it is one of `sourceTopic`'s retry tiers. */
  const tierDelayOf = (sourceTopic: string, topic: string) => tierDelays.find((delay) => naming.retry(sourceTopic, groupId, delay) === topic);
  // Replay topic → its source topic: a replayed record is a fresh record of the source topic, so
  // a new failure retries through the source's tiers and lands in the source's dead-letter topic.
  const replaySources = new Map<string, string>();
  /** A retry record remembers its source, attempts and first failure; anything malformed reads as a fresh record. */
  const bookkeepingOf = (record: IncomingRecord) => {
    const parsed = parseRetryBookkeeping(record, tierDelayOf);
    const replayedFrom = replaySources.get(record.topic);
    if (replayedFrom !== undefined && parsed.bookkeeping.source.topic === record.topic) parsed.bookkeeping.source = { ...parsed.bookkeeping.source, topic: replayedFrom };
    return parsed;
  };
  const dueAt = createDeferralClock({ jitter, now });
  // Retry topic → its source topic, as `retryTopics` named them: a record on a tier with no
  // (or malformed) bookkeeping is dead-lettered to its source's dead-letter topic, not the tier's.
  const tierSources = new Map<string, string>();

  const send = async (topic: string, record: IncomingRecord, headers: RecordHeaders, what: string) => {
    try {
      await publisher.send([{ topic, key: record.key, value: record.value, headers }]);
    } catch (error) {
      // Retriable as the failure is: a record the topic refuses (MESSAGE_TOO_LARGE) is refused
      // again, so the stall it causes needs an operator, not back-off alone.
      throw new FailureRoutingError(
        `could not write ${record.topic}[${record.partition}]@${record.offset} to ${what} ${topic}; the source offset stays uncommitted: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error, retriable: defaultIsRetriable(error) },
      );
    }
  };

  const deadLetter = async (record: IncomingRecord, error: unknown, info: DeadLetterInfo): Promise<void> => {
    const { bookkeeping } = bookkeepingOf(record);
    const { source } = bookkeeping;
    const failure = describeFailure(error, isRetriable(error));
    const lastFailureAt = now();
    const firstFailureAt = info.firstFailureAt ?? bookkeeping.firstFailureAt ?? lastFailureAt;
    const headers: RecordHeaders = {
      ...originalHeaders(record.headers),
      [DLT_HEADERS.originalTopic]: source.topic,
      [DLT_HEADERS.originalPartition]: int32(source.partition),
      [DLT_HEADERS.originalOffset]: int64(source.offset),
      [DLT_HEADERS.originalTimestamp]: int64(source.timestamp),
      [DLT_HEADERS.originalTimestampType]: 'CREATE_TIME',
      [DLT_HEADERS.originalConsumerGroup]: info.groupId,
      [DLT_HEADERS.exceptionClass]: failure.errorClass,
      [DLT_HEADERS.exceptionMessage]: failure.message,
      ...(failure.stack === undefined ? {} : { [DLT_HEADERS.exceptionStacktrace]: failure.stack }),
      ...(failure.code === undefined ? {} : { [DLT_HEADERS.errorCode]: failure.code }),
      [DLT_HEADERS.retriable]: String(failure.retriable),
      [DLT_HEADERS.handler]: info.handler ?? `(${info.reason})`,
      [DLT_HEADERS.attempts]: String(info.attempts),
      [DLT_HEADERS.firstFailure]: new Date(firstFailureAt).toISOString(),
      [DLT_HEADERS.lastFailure]: new Date(lastFailureAt).toISOString(),
    };
    const topic = naming.deadLetter(tierSources.get(source.topic) ?? source.topic, info.groupId);
    await send(topic, record, headers, 'dead-letter topic');
    deadLettered.add(1, { 'messaging.destination.name': source.topic, 'evkit.error_code': failure.code ?? failure.errorClass, 'evkit.dlq.reason': info.reason });
  };

  const toRetryTopic = async (record: IncomingRecord, bookkeeping: RetryBookkeeping, attempt: number) => {
    const { source } = bookkeeping;
    const delay = delayFor(attempt);
    const headers: RecordHeaders = {
      ...originalHeaders(record.headers),
      [RETRY_HEADERS.attempt]: String(attempt),
      [RETRY_HEADERS.notBefore]: String(now() + jittered(delay)),
      [RETRY_HEADERS.originalTopic]: source.topic,
      [RETRY_HEADERS.originalPartition]: String(source.partition),
      [RETRY_HEADERS.originalOffset]: source.offset,
      [RETRY_HEADERS.originalTimestamp]: String(source.timestamp),
      [RETRY_HEADERS.firstFailure]: String(bookkeeping.firstFailureAt ?? now()),
    };
    await send(naming.retry(source.topic, groupId, delay), record, headers, 'retry topic');
    retried.add(1, { 'messaging.destination.name': source.topic, 'evkit.retry.attempt': attempt });
  };

  /** Forged or corrupt bookkeeping: dead-lettered as a fresh record, before any handler runs. */
  const deadLetterMalformed = async (context: HandlerContext, error: MalformedRetryHeadersError) => {
    await deadLetter(context.record, error, { groupId: context.groupId, reason: 'malformed-headers', attempts: 0 });
    context.logger.error('retry headers malformed: dead-lettered as a fresh record', { code: error.code, header: error.header, error: boundedErrorText(error) });
  };

  const nonBlocking: Middleware = (next) => async (event, context) => {
    const parsed = bookkeepingOf(context.record);
    if (!parsed.ok) return deadLetterMalformed(context, parsed.error);
    try {
      await next(event, context);
    } catch (error) {
      if (isBatchFailure(error)) throw error; // the batch's, not the record's: redelivered, never routed
      const attempt = parsed.bookkeeping.attempt + 1;
      if (isRetriable(error) && attempt < maxAttempts) {
        context.logger.warn('handler failed: moved to a retry topic', { attempt, ...failureFields(error) });
        await toRetryTopic(context.record, parsed.bookkeeping, attempt);
      } else {
        await deadLetter(context.record, error, { groupId: context.groupId, reason: 'handler', handler: event.type, attempts: attempt });
        context.logger.error('handler failed for good: dead-lettered', { attempts: attempt, ...failureFields(error) });
      }
    }
  };

  const blocking: Middleware = (next) => async (event, context) => {
    const parsed = bookkeepingOf(context.record);
    if (!parsed.ok) return deadLetterMalformed(context, parsed.error);
    let firstFailureAt: number | undefined;
    for (let attempt = 1; ; attempt += 1) {
      try {
        await next(event, context);
        return;
      } catch (error) {
        if (isBatchFailure(error)) throw error; // the batch's, not the record's: redelivered, never routed
        firstFailureAt ??= now();
        if (!isRetriable(error) || attempt >= maxAttempts) {
          if (whenExhausted === 'stop') throw error;
          await deadLetter(context.record, error, { groupId: context.groupId, reason: 'handler', handler: event.type, attempts: attempt, firstFailureAt });
          context.logger.error('handler failed for good: dead-lettered', { attempts: attempt, ...failureFields(error) });
          return;
        }
        context.logger.warn('handler failed: retrying in place', { attempt, ...failureFields(error) });
        // The consumer stopping cuts the wait short: give up with the handler's error (redelivered).
        if (!(await sleep(jittered(delayFor(attempt)), context.signal))) throw error;
      }
    }
  };

  /** Retry and dead-letter topics take whatever their source topic takes, plus routing's headers. */
  const routedTopicSpecs = (sourceTopics: readonly string[]) =>
    sourceTopics.flatMap((source): TopicSpec[] =>
      [...routing.retryTopics([source]), routing.replayTopic(source), routing.deadLetterTopic(source)].map((topic) => ({
        topic,
        sizedLike: { topic: source, headroomBytes: ROUTING_HEADROOM_BYTES },
      })),
    );

  const hooks: FailureRoutingHooks = {
    groupId,
    topicsFor: (sourceTopics) => ({ subscribe: [...routing.retryTopics(sourceTopics), ...sourceTopics.map(routing.replayTopic)], ensure: routedTopicSpecs(sourceTopics) }),
    deferUntil: (record) => routing.deferUntil(record),
    deadLetter: { deadLetter: (record, error, info) => deadLetter(record, error, info) },
  };
  const routing: FailureRouting = {
    middleware: Object.assign<Middleware, { failureRouting: FailureRoutingHooks }>(mode === 'blocking' ? blocking : nonBlocking, { failureRouting: hooks }),
    deadLetter,
    retryTopics: (sourceTopics) =>
      sourceTopics.flatMap((source) =>
        tierDelays.map((delay) => {
          const tier = naming.retry(source, groupId, delay);
          tierSources.set(tier, source);
          return tier;
        }),
      ),
    deadLetterTopic: (sourceTopic) => naming.deadLetter(sourceTopic, groupId),
    replayTopic(sourceTopic) {
      const topic = replayTopicName(naming, sourceTopic, groupId);
      replaySources.set(topic, sourceTopic);
      return topic;
    },
    deferUntil(record) {
      // Malformed bookkeeping is not deferred: the middleware dead-letters it at once.
      const parsed = bookkeepingOf(record);
      const retry = parsed.ok ? parsed.bookkeeping.retry : undefined;
      return retry === undefined ? undefined : dueAt(record, retry);
    },
  };
  return routing;
}

/** What a failure line says about the error: its code and its message (redacted, bounded). */
function failureFields(error: unknown): { code: string | undefined; error: string } {
  return { code: isEvkitError(error) ? error.code : undefined, error: boundedErrorText(error) };
}
