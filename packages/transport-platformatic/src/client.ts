import type { BaseOptions, ConnectionOptions, RetryDelayGetter } from '@platformatic/kafka';
import { boundedText, errorMessageOf } from '@evkit/errors';
import {
  checkBrokers,
  checkNonNegativeInteger,
  checkOptionsObject,
  checkPositiveInteger,
  TransportConfigError,
  type ClientErrorReader,
} from '@evkit/transport';

/**
 * How to reach the cluster. TLS and SASL go to @platformatic/kafka unchanged; evkit never logs
 * them or puts them in an error.
 */
export interface PlatformaticClientOptions {
  /** `host:port` bootstrap brokers. */
  brokers: string[];
  /** Default `'evkit'`. */
  clientId?: string;
  /** TLS (Node's `tls.connect` options), passed as is. */
  tls?: ConnectionOptions['tls'];
  /** SASL (PLAIN, SCRAM-SHA-256/512, OAUTHBEARER, GSSAPI), passed as is. */
  sasl?: ConnectionOptions['sasl'];
  /** Milliseconds to open a connection. The client's default: 5000. */
  connectTimeout?: number;
  /** Milliseconds for a request's answer. The client's default: 30000. */
  requestTimeout?: number;
  /**
   * Attempts after a retriable failure, per request (connecting, metadata, a produce, a fetch).
   * Default 5 (the client's own default for an idempotent producer is to retry forever).
   */
  retries?: number;
  /** Milliseconds between attempts, or a function of the attempt. Default 250. */
  retryDelay?: number | RetryDelayGetter;
}

export const DEFAULT_RETRIES = 5;
export const DEFAULT_RETRY_DELAY_MS = 250;

/**
 * Whether this Node runs @platformatic/kafka 2.x (its engines: >= 22.22 or >= 24.6). Older ones
 * load it (Node 20.19 has require(esm)) and then fail at the first request, e.g. on Node 20 with
 * "Promise.withResolvers is not a function".
 */
export function supportsNode(version: string = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return (major === 22 && minor >= 22) || (major === 24 && minor >= 6) || major > 24;
}

/** The options every @platformatic/kafka client of this transport gets; throws TransportConfigError naming the option at fault. */
export function baseOptions(options: PlatformaticClientOptions, role: string): BaseOptions {
  if (!supportsNode()) {
    throw new TransportConfigError(`@evkit/transport-platformatic needs Node >= 22.22 or >= 24.6 (@platformatic/kafka 2.x), this is ${process.versions.node}`);
  }
  checkOptionsObject(options);
  const { brokers } = options;
  checkBrokers(brokers);
  if (options.clientId !== undefined && (typeof options.clientId !== 'string' || !/^\S+$/.test(options.clientId))) {
    throw new TransportConfigError('clientId must be a non-empty string without spaces');
  }
  for (const name of ['connectTimeout', 'requestTimeout'] as const) checkPositiveInteger(name, options[name]);
  checkNonNegativeInteger('retries', options.retries);
  const { retryDelay } = options;
  if (retryDelay !== undefined && typeof retryDelay !== 'function' && !(Number.isInteger(retryDelay) && retryDelay >= 0)) {
    throw new TransportConfigError(`retryDelay must be a non-negative integer or a function, got ${JSON.stringify(retryDelay)}`);
  }
  if (options.tls !== undefined && (options.tls === null || typeof options.tls !== 'object')) {
    throw new TransportConfigError('tls must be an object of tls.connect options');
  }
  if (options.sasl !== undefined && (options.sasl === null || typeof options.sasl !== 'object' || typeof options.sasl.mechanism !== 'string')) {
    throw new TransportConfigError('sasl must be an object with a mechanism');
  }
  return {
    // The role keeps the producer, consumer and admin of one service apart in broker logs.
    clientId: `${options.clientId ?? 'evkit'}-${role}`,
    bootstrapBrokers: [...brokers],
    retries: options.retries ?? DEFAULT_RETRIES,
    retryDelay: retryDelay ?? DEFAULT_RETRY_DELAY_MS,
    // Creating topics is ensureTopics' job: a typo must not create one.
    autocreateTopics: false,
    ...(options.connectTimeout !== undefined && { connectTimeout: options.connectTimeout }),
    // Only the client's wait: `timeout`, the broker's own wait for acks, keeps the client's 5000.
    ...(options.requestTimeout !== undefined && { requestTimeout: options.requestTimeout }),
    ...(options.tls !== undefined && { tls: options.tls }),
    ...(options.sasl !== undefined && { sasl: options.sasl }),
  };
}

/**
 * The errors along `cause` and inside aggregates, outermost first: the client wraps what went
 * wrong in "failed N times" errors that hold each attempt's error.
 */
function errorTree(error: unknown): unknown[] {
  const seen: unknown[] = [];
  const visit = (current: unknown) => {
    if (current === undefined || current === null || seen.includes(current) || seen.length > 50) return;
    seen.push(current);
    if (current instanceof AggregateError) for (const inner of current.errors as unknown[]) visit(inner);
    visit((current as { cause?: unknown }).cause);
  };
  visit(error);
  return seen;
}

/**
 * Whether trying again may succeed: the client marks every error it knows with `canRetry`
 * (network failures and retriable broker answers true; authentication, a too-large record, a
 * closed client false). Its own retries having run out on such errors is retriable too.
 */
export function isRetriable(error: unknown): boolean {
  const tree = errorTree(error);
  if (tree.some((e) => (e as { canRetry?: unknown }).canRetry === false)) return false;
  return tree.some((e) => (e as { canRetry?: unknown }).canRetry === true);
}

/** The Kafka protocol error id (e.g. `ILLEGAL_GENERATION`) anywhere in the error. */
export function protocolErrorIds(error: unknown): string[] {
  return errorTree(error)
    .map((e) => (e as { apiId?: unknown }).apiId)
    .filter((id): id is string => typeof id === 'string');
}

/**
 * What went wrong, for an error message: the outer message and the distinct inner ones (the
 * client's "produce failed 3 times." says nothing by itself), credentials removed, bounded.
 */
export function messageOf(error: unknown): string {
  const messages = [...new Set(errorTree(error).map((e) => errorMessageOf(e)).filter((m) => m.length > 0))];
  return boundedText(messages.join(': '));
}

/** How @platformatic/kafka's errors read, for the shared transport code (connectOnce, ensureTopicsWith). */
export const platformaticErrors: ClientErrorReader = { messageOf, isRetriable };
