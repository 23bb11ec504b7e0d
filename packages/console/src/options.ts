import { isIP } from 'node:net';
import type { RegistryOptions } from '@evkit/codec';
import type { PublisherTransport, SubscriberTransport } from '@evkit/transport';
import type { KafkaJsClientOptions } from '@evkit/transport-kafkajs';
import { ConsoleConfigError } from './errors';

/** A consumer group's lag as `evkit lag` reads it (the CLI hands its own reader in). */
export interface ConsoleGroupLag {
  readonly groupId: string;
  readonly state: string;
  readonly partitions: readonly { topic: string; partition: number; offsetLag: number; timeLagMs: number | null }[];
}

/** One difference between two schema versions, as `evkit schemas diff` reports it. */
export interface ConsoleSchemaChange {
  readonly path: string;
  readonly change: 'added' | 'removed' | 'changed';
  readonly detail: string;
}

export interface ConsoleOptions {
  /** KafkaJS options: the admin client (groups, offsets) and, without `transports`, the replay's publisher and subscriber. */
  kafka: KafkaJsClientOptions;
  /**
   * The replay's Kafka transports, made on first use and disconnected by `close()`: another
   * client's (the CLI passes those of `EVKIT_TRANSPORT`). Default: KafkaJS's, with `kafka`.
   */
  transports?: { publisher(): PublisherTransport; subscriber(): SubscriberTransport };
  registry: RegistryOptions;
  /** Default `127.0.0.1`. Any other address needs `token`. */
  host?: string;
  /** Default 7070; 0 picks a free port. */
  port?: number;
  /** Required off loopback: every request must carry it (a cookie set from `/?token=`, or `Authorization: Bearer`). */
  token?: string;
  /** The consumer groups whose lag is shown. Default: every group with members at each sample. */
  groups?: readonly string[];
  /** Reads a group's lag: the CLI's `evkit lag` reader. */
  lag: (groupId: string) => Promise<ConsoleGroupLag>;
  /** Diffs two schema texts: the CLI's `evkit schemas diff` logic. Throws for a schema it cannot read. */
  diffSchemas: (before: string, after: string) => readonly ConsoleSchemaChange[];
  /** How often lag is sampled for the chart, ms. Default 3000. */
  lagSampleMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

export interface ResolvedOptions extends ConsoleOptions {
  host: string;
  port: number;
  loopback: boolean;
  lagSampleMs: number;
  now: () => number;
}

const MIN_TOKEN_LENGTH = 16;

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

/** Checks the options once, at the edge: everything past here may trust them. */
export function resolveOptions(options: ConsoleOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw new ConsoleConfigError('options are required');
  if (!options.kafka || typeof options.kafka !== 'object') throw new ConsoleConfigError('kafka options are required');
  if (!options.registry || typeof options.registry.url !== 'string') throw new ConsoleConfigError('registry options with a url are required');
  if (typeof options.lag !== 'function') throw new ConsoleConfigError('lag must be a function reading a group’s lag');
  if (typeof options.diffSchemas !== 'function') throw new ConsoleConfigError('diffSchemas must be a function');
  const { transports } = options;
  if (transports !== undefined && (transports === null || typeof transports.publisher !== 'function' || typeof transports.subscriber !== 'function')) {
    throw new ConsoleConfigError('transports must have publisher and subscriber functions');
  }
  const host = options.host ?? '127.0.0.1';
  if (typeof host !== 'string' || host === '' || !(isIP(host) !== 0 || /^[a-z0-9.-]+$/i.test(host))) throw new ConsoleConfigError(`host must be an address or host name, got ${JSON.stringify(host)}`);
  const port = options.port ?? 7070;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConsoleConfigError(`port must be an integer from 0 to 65535, got ${String(port)}`);
  if (options.groups !== undefined && (!Array.isArray(options.groups) || options.groups.some((g) => typeof g !== 'string' || g === ''))) {
    throw new ConsoleConfigError('groups must be a list of consumer group ids');
  }
  const lagSampleMs = options.lagSampleMs ?? 3000;
  if (!Number.isInteger(lagSampleMs) || lagSampleMs < 100 || lagSampleMs > 600_000) throw new ConsoleConfigError(`lagSampleMs must be an integer from 100 to 600000, got ${String(lagSampleMs)}`);
  const loopback = isLoopback(host);
  if (options.token !== undefined && (typeof options.token !== 'string' || options.token.length < MIN_TOKEN_LENGTH)) {
    // Not echoed: it is a secret even when it is a bad one.
    throw new ConsoleConfigError(`token must be at least ${MIN_TOKEN_LENGTH} characters`);
  }
  if (!loopback && options.token === undefined) {
    throw new ConsoleConfigError(`host ${host} is not loopback: anyone who reaches it could replay and park dead letters; give a token (--token or EVKIT_CONSOLE_TOKEN)`);
  }
  return { ...options, host, port, loopback, lagSampleMs, now: options.now ?? Date.now };
}
