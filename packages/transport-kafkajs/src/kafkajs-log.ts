import { logLevel, type LogEntry, type logCreator } from 'kafkajs';
import { createJsonLogger, type LogFields, type Logger, type LogLevel } from '@evkit/telemetry';
import type { KafkaJsClientOptions } from './client';

/**
 * What KafkaJS logs at error or warn level on a healthy run, and recovers from by itself: the
 * line becomes debug. Matched on the text, as KafkaJS logs only an error's message.
 * - The stale-metadata errors (KafkaJS's own `staleMetadata` list: UNKNOWN_TOPIC_OR_PARTITION,
 *   LEADER_NOT_AVAILABLE, NOT_LEADER_FOR_PARTITION), which it answers by refreshing metadata and
 *   retrying: the first publish to an auto-created topic, a leader moving. When the retries run
 *   out, the send or the consumer fails, and that failure reaches the caller as an evkit error.
 * - A group rebalancing (REBALANCE_IN_PROGRESS), which it answers by rejoining.
 * - Its warning about bounded retries on an idempotent producer, which evkit sets on purpose
 *   (the transport's README says why).
 * - A connection's line for a CreateTopics answer with per-topic errors: TOPIC_ALREADY_EXISTS
 *   when two members create the same topic at once, which `ensureTopics` accepts; any other
 *   per-topic error fails `ensureTopics` with a TransportTopicsError naming it.
 */
const TRANSIENT = [
  'This server does not host this topic-partition',
  'There is no leader for this topic-partition',
  'This server is not the leader for that topic-partition',
  'The group is rebalancing',
  'Limiting retries for the idempotent producer',
  'Topic creation errors',
];

/**
 * Lines that say KafkaJS's retries ran out (a consumer crash, retries exceeded) keep their level
 * even when the last error was a transient one, and so do evkit's own reports (with an evkit
 * `code`) that a subscriber writes through the client's logger.
 */
const GAVE_UP = /^Crash\b|NumberOfRetriesExceeded|Restarting the consumer/;

/** KafkaJS's log fields that are its own bookkeeping, or too big for a line (stacks, payloads). */
const LEFT_OUT = new Set(['message', 'timestamp', 'logger', 'stack', 'data', 'payload']);

const EVKIT_LEVEL: Readonly<Record<number, Exclude<LogLevel, 'silent'>>> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** The evkit level for one KafkaJS line: its own, but debug for what KafkaJS recovers from. */
export function evkitLevelOf(entry: Pick<LogEntry, 'level' | 'log'>): Exclude<LogLevel, 'silent'> {
  const level = EVKIT_LEVEL[entry.level] ?? 'debug';
  if (level !== 'error' && level !== 'warn') return level;
  const message = String(entry.log.message);
  if (GAVE_UP.test(message) || String(entry.log.code).startsWith('EVKIT_')) return level;
  const text = `${message} ${typeof entry.log.error === 'string' ? entry.log.error : ''}`;
  return TRANSIENT.some((known) => text.includes(known)) ? 'debug' : level;
}

/**
 * A KafkaJS `logCreator` writing through an evkit Logger: `KafkaJS <namespace>: <message>`, with
 * KafkaJS's scalar fields (`error`, `broker`, `clientId`, `groupId`, `retryCount`, ...) as fields.
 */
export function kafkaJsLogCreator(logger: Logger): logCreator {
  return () => (entry) => {
    const fields: LogFields = { source: 'kafkajs' };
    for (const [name, value] of Object.entries(entry.log)) {
      if (LEFT_OUT.has(name)) continue;
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') fields[name] = value;
      else if (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number')) fields[name] = value.join(',');
    }
    const where = entry.namespace ? ` ${entry.namespace}` : '';
    logger[evkitLevelOf(entry)](`KafkaJS${where}: ${String(entry.log.message)}`, fields);
  };
}

/** KafkaJS's level for an evkit logger: warn and above unless `logLevel` says otherwise. */
export const DEFAULT_KAFKAJS_LOG_LEVEL = logLevel.WARN;

/**
 * The logger KafkaJS's lines go to when none is given: evkit's JSON lines on stderr, at the level
 * KafkaJS was asked for (warn by default), so its transient errors no longer show.
 */
export function defaultKafkaJsLogger(level: logLevel = DEFAULT_KAFKAJS_LOG_LEVEL): Logger {
  return createJsonLogger(level === logLevel.NOTHING ? 'silent' : (EVKIT_LEVEL[level] ?? 'warn'));
}

/**
 * `options` with KafkaJS's lines going to `logger` (a producer's or consumer's own), unless the
 * options already say where they go (a logger, a log creator, or a client of your own).
 */
export function withKafkaJsLogger<T extends KafkaJsClientOptions>(options: T, logger: Logger | undefined): T {
  if (logger === undefined || options.logger !== undefined || options.logCreator !== undefined || options.kafka !== undefined) return options;
  return { ...options, logger };
}
