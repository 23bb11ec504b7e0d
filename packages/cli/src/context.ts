import type { RegistryOptions } from '@evkit/codec';
import { createLocalStack } from '@evkit/stack';
import { Kafka, logLevel } from 'kafkajs';
import { isKafkaClientName, KAFKA_CLIENTS, loadTransport, type KafkaPublisherOptions, type PublisherTransport, type SubscriberTransport } from '@evkit/transport';
import type { KafkaJsClientOptions } from '@evkit/transport-kafkajs';
import { CliUsageError } from './exit-codes';

export interface Output {
  json: boolean;
  /** Results: stdout. */
  out(line: string): void;
  /** Progress and diagnostics: stderr, so `--json` output stays parseable. */
  err(line: string): void;
}

export function createOutput(json: boolean): Output {
  return { json, out: (line) => process.stdout.write(`${line}\n`), err: (line) => process.stderr.write(`${line}\n`) };
}

/**
 * Kafka client options from flags, then the environment (`EVKIT_KAFKA_BROKERS`), then the local
 * stack's defaults. SASL credentials come only from the environment, never from flags, so they
 * stay out of shell history and process lists.
 */
export function kafkaOptions(flags: { brokers?: string }, env: NodeJS.ProcessEnv = process.env): KafkaJsClientOptions {
  const brokers = (flags.brokers ?? env.EVKIT_KAFKA_BROKERS ?? createLocalStack().endpoints.kafkaBrokers.join(','))
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  return {
    brokers,
    clientId: 'evkit-cli',
    logLevel: logLevel.NOTHING,
    ...(env.EVKIT_KAFKA_SSL === 'true' ? { ssl: true } : {}),
    ...saslFrom(env),
  };
}

/** A KafkaJS client for the commands that need the admin API or a raw consumer (`lag`), with the same options. */
export function kafkaClient(flags: { brokers?: string }, env: NodeJS.ProcessEnv = process.env): Kafka {
  const { brokers = [], clientId, logLevel: level, ssl, sasl } = kafkaOptions(flags, env);
  return new Kafka({ brokers, clientId, logLevel: level, ssl, sasl });
}

/**
 * The transports of the commands that read and publish records (`dlq`, `saga`): on the client
 * `EVKIT_TRANSPORT` names (kafkajs, the default, or platformatic, which needs Node >= 22.22), with
 * the connection settings of `kafkaOptions`. The publisher is the caller's to disconnect.
 */
export function kafkaTransports(flags: { brokers?: string }, env: NodeJS.ProcessEnv = process.env): { publisher: PublisherTransport; subscriber: () => SubscriberTransport } {
  const client = env.EVKIT_TRANSPORT || 'kafkajs';
  if (!isKafkaClientName(client)) throw new CliUsageError(`EVKIT_TRANSPORT must be one of ${KAFKA_CLIENTS.join(', ')}, got ${client}`);
  const kafkajs = kafkaOptions(flags, env);
  let options: KafkaPublisherOptions = kafkajs;
  if (client === 'platformatic') {
    // The same settings under @platformatic/kafka's names: `tls`, and SASL mechanisms in capitals.
    const { brokers = [], clientId, ssl, sasl } = kafkajs;
    options = { brokers, clientId, ...(ssl ? { tls: {} } : {}), ...(sasl ? { sasl: { ...sasl, mechanism: sasl.mechanism.toUpperCase() } } : {}) };
  }
  const transport = loadTransport(client);
  return { publisher: transport.createPublisher(options), subscriber: () => transport.createSubscriber(options) };
}

/**
 * Schema registry options from `--registry-url`, then `EVKIT_REGISTRY_URL`, then the local stack.
 * Basic auth comes only from `EVKIT_REGISTRY_USERNAME` and `EVKIT_REGISTRY_PASSWORD`: a URL with
 * credentials in a flag would leave them in shell history, so it is refused (without echoing it).
 * Empty variables count as unset, which is what a missing GitHub Actions secret expands to.
 */
export function registryOptions(flags: { registryUrl?: string }, env: NodeJS.ProcessEnv = process.env): RegistryOptions {
  if (flags.registryUrl !== undefined && URL.canParse(flags.registryUrl)) {
    const { username, password } = new URL(flags.registryUrl);
    if (username || password) {
      throw new CliUsageError('--registry-url must not carry credentials; set EVKIT_REGISTRY_USERNAME and EVKIT_REGISTRY_PASSWORD instead');
    }
  }
  const url = flags.registryUrl ?? (env.EVKIT_REGISTRY_URL || createLocalStack().endpoints.registryUrl);
  const username = env.EVKIT_REGISTRY_USERNAME || undefined;
  const password = env.EVKIT_REGISTRY_PASSWORD || undefined;
  if ((username === undefined) !== (password === undefined)) {
    throw new CliUsageError('set both EVKIT_REGISTRY_USERNAME and EVKIT_REGISTRY_PASSWORD, or neither');
  }
  return { url, ...(username !== undefined && password !== undefined ? { auth: { username, password } } : {}) };
}

function saslFrom(env: NodeJS.ProcessEnv): Pick<KafkaJsClientOptions, 'sasl'> {
  const mechanism = env.EVKIT_KAFKA_SASL_MECHANISM;
  if (mechanism === undefined || mechanism === '') return {};
  const credentials = { username: env.EVKIT_KAFKA_SASL_USERNAME ?? '', password: env.EVKIT_KAFKA_SASL_PASSWORD ?? '' };
  switch (mechanism) {
    case 'plain':
      return { sasl: { mechanism, ...credentials } };
    case 'scram-sha-256':
      return { sasl: { mechanism, ...credentials } };
    case 'scram-sha-512':
      return { sasl: { mechanism, ...credentials } };
    default:
      throw new CliUsageError(`EVKIT_KAFKA_SASL_MECHANISM must be plain, scram-sha-256 or scram-sha-512, got ${mechanism}`);
  }
}
