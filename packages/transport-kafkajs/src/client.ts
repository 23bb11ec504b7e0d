import { Kafka, type KafkaConfig, type logCreator, type logLevel, type RetryOptions } from 'kafkajs';
import { TransportConfigError, TransportConnectError } from '@evkit/transport';

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
  logLevel?: logLevel;
  logCreator?: logCreator;
}

const CONNECTION_OPTIONS = ['brokers', 'clientId', 'ssl', 'sasl', 'connectionTimeout', 'requestTimeout', 'logLevel', 'logCreator'] as const;

/** The client to use, built from the options or given; throws TransportConfigError naming the option at fault. */
export function resolveClient(options: KafkaJsClientOptions): Kafka {
  if (options === null || typeof options !== 'object') throw new TransportConfigError('options are required');
  if (options.kafka !== undefined) {
    if (!(options.kafka instanceof Kafka)) throw new TransportConfigError('kafka must be a kafkajs Kafka instance');
    const both = CONNECTION_OPTIONS.filter((name) => options[name] !== undefined);
    if (both.length > 0) throw new TransportConfigError(`give either kafka or connection options, not both (${both.join(', ')})`);
    return options.kafka;
  }
  const { brokers } = options;
  if (!Array.isArray(brokers) || brokers.length === 0 || brokers.some((b) => typeof b !== 'string' || !/^[^\s:]+:\d+$|^\[[^\]]+\]:\d+$/.test(b))) {
    throw new TransportConfigError('brokers must be a non-empty array of host:port strings');
  }
  for (const name of ['connectionTimeout', 'requestTimeout'] as const) positiveInteger(name, options[name]);
  return new Kafka({
    brokers,
    clientId: options.clientId ?? 'evkit',
    ...(options.ssl !== undefined && { ssl: options.ssl }),
    ...(options.sasl !== undefined && { sasl: options.sasl }),
    ...(options.connectionTimeout !== undefined && { connectionTimeout: options.connectionTimeout }),
    ...(options.requestTimeout !== undefined && { requestTimeout: options.requestTimeout }),
    ...(options.retry !== undefined && { retry: options.retry }),
    ...(options.logLevel !== undefined && { logLevel: options.logLevel }),
    ...(options.logCreator !== undefined && { logCreator: options.logCreator }),
  });
}

/**
 * `connect` made idempotent: calls share one attempt, a failed attempt is forgotten so the next
 * call tries again, and failures become TransportConnectError.
 */
export function connectOnce(connect: () => Promise<void>, who: string): { connect(): Promise<void>; reset(): void } {
  let connecting: Promise<void> | undefined;
  return {
    connect() {
      connecting ??= connect().catch((error: unknown) => {
        connecting = undefined;
        throw new TransportConnectError(`${who} could not connect to Kafka: ${messageOf(error)}`, { cause: error, retriable: isRetriable(error) });
      });
      return connecting;
    },
    reset() {
      connecting = undefined;
    },
  };
}

/** Throws TransportConfigError unless `value` is undefined or a positive integer. */
export function positiveInteger(name: string, value: unknown): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value < 1)) {
    throw new TransportConfigError(`${name} must be a positive integer, got ${JSON.stringify(value)}`);
  }
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
