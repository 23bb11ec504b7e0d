import type { ConnectionOptions as TlsOptions } from 'node:tls';
import type { Logger } from '@evkit/telemetry';
import type { SendCoalescingOptions } from './send-coalescer';
import type { SubscriberTuningOptions } from './subscriber-tuning';

// The clients' options restated without the clients' own types: a package that names them (the
// producer, the consumer...) then type-checks with only the client it uses installed. Each
// transport checks the values when it is created; kafka-clients.test.ts keeps these types in
// step with the transports' own.

/** The Kafka clients evkit has a transport for; `kafkajs` is the default everywhere. */
export const KAFKA_CLIENTS = ['kafkajs', 'platformatic'] as const;
export type KafkaClientName = (typeof KAFKA_CLIENTS)[number];

export function isKafkaClientName(value: unknown): value is KafkaClientName {
  return (KAFKA_CLIENTS as readonly unknown[]).includes(value);
}

/** What is wrong with a `client` option, as a sentence naming it; undefined when it is fine or not given. */
export function kafkaClientProblem(client: unknown): string | undefined {
  return client === undefined || isKafkaClientName(client) ? undefined : `client must be one of ${KAFKA_CLIENTS.join(', ')}, got ${JSON.stringify(client)}`;
}

/** What both clients take, under the same names. */
export interface KafkaConnectionOptions {
  /** `host:port` bootstrap brokers. */
  brokers?: string[];
  /** Default `'evkit'`. */
  clientId?: string;
  /** Milliseconds for a request's answer. Default 30000 on both clients. */
  requestTimeout?: number;
}

/** KafkaJS (`@evkit/transport-kafkajs`, `KafkaJsClientOptions` there). */
export interface KafkaJsConnectionOptions extends KafkaConnectionOptions {
  /** A KafkaJS `Kafka` client of your own, instead of the connection options. */
  kafka?: object;
  /** `true`, or Node's `tls.connect` options. */
  ssl?: boolean | TlsOptions;
  /** As KafkaJS takes it: `{ mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512' | 'aws' | 'oauthbearer', ... }`. */
  sasl?: { mechanism: string; [field: string]: unknown };
  /** Milliseconds to open a connection. KafkaJS's default: 1000. */
  connectionTimeout?: number;
  /** KafkaJS's retry options (`retries`, `initialRetryTime`, `maxRetryTime`, ...), for connecting and sends. */
  retry?: { retries?: number; initialRetryTime?: number; maxRetryTime?: number; factor?: number; multiplier?: number; restartOnFailure?: (error: Error) => Promise<boolean> };
  /** Where KafkaJS's own log lines go. Default: evkit's JSON logger at `logLevel`. */
  logger?: Logger;
  /** KafkaJS's `logLevel`. */
  logLevel?: number;
  /** KafkaJS's own log creator, instead of `logger`. */
  logCreator?: (logLevel: number) => (entry: never) => void;
}

/** @platformatic/kafka (`@evkit/transport-platformatic`, `PlatformaticClientOptions` there); needs Node >= 22.22. */
export interface PlatformaticConnectionOptions extends KafkaConnectionOptions {
  brokers: string[];
  /** Node's `tls.connect` options. */
  tls?: TlsOptions;
  /** As @platformatic/kafka takes it: `{ mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512' | 'OAUTHBEARER' | 'GSSAPI', ... }`. */
  sasl?: { mechanism: string; username?: unknown; password?: unknown; token?: unknown; oauthBearerExtensions?: unknown; authenticate?: unknown; authBytesValidator?: unknown };
  /** Milliseconds to open a connection. The client's default: 5000. */
  connectTimeout?: number;
  /** Attempts after a retriable failure, per request. */
  retries?: number;
  /** Milliseconds between attempts, or a function of the attempt. */
  retryDelay?: number | ((client: never, operationId: string, attempt: number, retries: number, error: Error) => number);
}

/** The connection options of a client. */
export type KafkaConnectionOf<C extends KafkaClientName> = C extends 'platformatic' ? PlatformaticConnectionOptions : KafkaJsConnectionOptions;

/** A publisher's options on client `C`: its connection, and the shared send coalescing. */
export type KafkaPublisherOptions<C extends KafkaClientName = KafkaClientName> = KafkaConnectionOf<C> & SendCoalescingOptions;

/** A subscriber's options on client `C`: its connection, the shared tuning, and what the client adds. */
export type KafkaSubscriberOptions<C extends KafkaClientName = KafkaClientName> = KafkaConnectionOf<C> &
  SubscriberTuningOptions &
  (C extends 'platformatic' ? unknown : { restartOnFailure?: (error: Error) => Promise<boolean> });
