import { Kafka, type KafkaConfig, type logCreator, type logLevel, type RetryOptions } from 'kafkajs';
import type { Logger } from '@evkit/telemetry';
import { checkBrokers, checkOptionsObject, checkPositiveInteger, TransportConfigError, type ClientErrorReader } from '@evkit/transport';
import { DEFAULT_KAFKAJS_LOG_LEVEL, defaultKafkaJsLogger, kafkaJsLogCreator } from './kafkajs-log';

/**
 * Either an existing `Kafka` client, or the configuration of a new one. TLS and SASL go to
 * KafkaJS unchanged; evkit never logs them or puts them in an error.
 */
export interface KafkaJsClientOptions {
  /** A client of your own; the connection options below must then be left out. */
  kafka?: Kafka;
  brokers?: string[];
  /** Default `'evkit'`. */
  clientId?: string;
  ssl?: KafkaConfig['ssl'];
  sasl?: KafkaConfig['sasl'];
  /** Milliseconds to open a connection. KafkaJS's default: 1000. */
  connectionTimeout?: number;
  /** Milliseconds for a request's answer. KafkaJS's default: 30000. */
  requestTimeout?: number;
  /** Retries with exponential backoff, for connecting and, unless said otherwise, for sends. */
  retry?: RetryOptions;
  /**
   * Where KafkaJS's own log lines go, as evkit lines (`KafkaJS Connection: ...`); errors it
   * retries by itself (a new topic's leader not yet elected, a rebalance) at debug. Default: evkit's
   * JSON logger on stderr at `logLevel`.
   */
  logger?: Logger;
  /** KafkaJS's level. Default `WARN`: warnings and errors only. */
  logLevel?: logLevel;
  /** KafkaJS's own log creator, instead of `logger`. */
  logCreator?: logCreator;
}

const CONNECTION_OPTIONS = ['brokers', 'clientId', 'ssl', 'sasl', 'connectionTimeout', 'requestTimeout', 'logger', 'logLevel', 'logCreator'] as const;

/** The client to use, built from the options or given; throws TransportConfigError naming the option at fault. */
export function resolveClient(options: KafkaJsClientOptions): Kafka {
  checkOptionsObject(options);
  if (options.kafka !== undefined) {
    if (!(options.kafka instanceof Kafka)) throw new TransportConfigError('kafka must be a kafkajs Kafka instance');
    const both = CONNECTION_OPTIONS.filter((name) => options[name] !== undefined);
    if (both.length > 0) throw new TransportConfigError(`give either kafka or connection options, not both (${both.join(', ')})`);
    return options.kafka;
  }
  const { brokers } = options;
  checkBrokers(brokers);
  for (const name of ['connectionTimeout', 'requestTimeout'] as const) checkPositiveInteger(name, options[name]);
  if (options.logger !== undefined && options.logCreator !== undefined) throw new TransportConfigError('give either logger or logCreator, not both');
  const level = options.logLevel ?? DEFAULT_KAFKAJS_LOG_LEVEL;
  return new Kafka({
    brokers,
    clientId: options.clientId ?? 'evkit',
    ...(options.ssl !== undefined && { ssl: options.ssl }),
    ...(options.sasl !== undefined && { sasl: options.sasl }),
    ...(options.connectionTimeout !== undefined && { connectionTimeout: options.connectionTimeout }),
    ...(options.requestTimeout !== undefined && { requestTimeout: options.requestTimeout }),
    ...(options.retry !== undefined && { retry: options.retry }),
    logLevel: level,
    logCreator: options.logCreator ?? kafkaJsLogCreator(options.logger ?? defaultKafkaJsLogger(level)),
  });
}

/** The errors along `cause`, outermost first: KafkaJS wraps what went wrong in retry errors. */
function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let current = error; current !== undefined && current !== null && !chain.includes(current); current = (current as { cause?: unknown }).cause) {
    chain.push(current);
  }
  return chain;
}

/**
 * Whether trying again may succeed, as KafkaJS itself decides whether to restart a crashed
 * consumer: retries ran out on a transient error, or the root cause says it is retriable.
 */
export function isRetriable(error: unknown): boolean {
  const chain = causeChain(error);
  if (chain.some((e) => (e as { name?: unknown }).name === 'KafkaJSNumberOfRetriesExceeded')) return true;
  return (chain.at(-1) as { retriable?: unknown } | undefined)?.retriable === true;
}

/** The Kafka protocol error type (e.g. `ILLEGAL_GENERATION`) anywhere along the cause chain. */
export function protocolErrorType(error: unknown): string | undefined {
  for (const e of causeChain(error)) {
    const type = (e as { type?: unknown }).type;
    if (typeof type === 'string') return type;
  }
  return undefined;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** How KafkaJS's errors read, for the shared transport code (connectOnce, ensureTopicsWith). */
export const kafkaJsErrors: ClientErrorReader = { messageOf, isRetriable };
