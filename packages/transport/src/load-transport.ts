import type { Logger } from '@evkit/telemetry';
import { TransportConfigError, TransportNotInstalledError } from './errors';
import { kafkaClientProblem, type KafkaClientName, type KafkaPublisherOptions, type KafkaSubscriberOptions } from './kafka-clients';
import type { PublisherTransport, SubscriberTransport } from './transport';

/** A client's transports, made from its options; `logger` takes the client's own log lines where it has any. */
export interface KafkaTransport<C extends KafkaClientName = KafkaClientName> {
  readonly client: C;
  createPublisher(options: KafkaPublisherOptions<C>, logger?: Logger): PublisherTransport;
  createSubscriber(options: KafkaSubscriberOptions<C>, logger?: Logger): SubscriberTransport;
}

/** The package of each client's transport: optional peers, so an install carries only the client it uses. */
export const TRANSPORT_PACKAGES: Readonly<Record<KafkaClientName, string>> = {
  kafkajs: '@evkit/transport-kafkajs',
  platformatic: '@evkit/transport-platformatic',
};

type Factory = (options: unknown) => unknown;
type WithLogger = (options: unknown, logger: Logger | undefined) => unknown;

/**
 * The transport of `client`, its package loaded on first use. Throws TransportNotInstalledError
 * when the package is not installed, TransportConfigError for a name that is no client.
 */
export function loadTransport<C extends KafkaClientName>(client: C): KafkaTransport<C> {
  const problem = kafkaClientProblem(client) ?? (client === undefined ? 'client is required' : undefined);
  if (problem !== undefined) throw new TransportConfigError(problem);
  const name = TRANSPORT_PACKAGES[client];
  const module = requireTransport(name, client);
  const factory = (exported: string): Factory => module[exported] as Factory;
  // The options were typed by KafkaPublisherOptions/KafkaSubscriberOptions; the transport checks them itself.
  if (client === 'kafkajs') {
    const withLogger = module.withKafkaJsLogger as WithLogger;
    return {
      client,
      createPublisher: (options, logger) => factory('createKafkaJsPublisher')(withLogger(options, logger)) as PublisherTransport,
      createSubscriber: (options, logger) => factory('createKafkaJsSubscriber')(withLogger(options, logger)) as SubscriberTransport,
    };
  }
  // @platformatic/kafka takes no logger: the subscriber reports through onError.
  return {
    client,
    createPublisher: (options) => factory('createPlatformaticPublisher')(options) as PublisherTransport,
    createSubscriber: (options) => factory('createPlatformaticSubscriber')(options) as SubscriberTransport,
  };
}

function requireTransport(name: string, client: KafkaClientName): Record<string, unknown> {
  try {
    // Loaded by name at run time, not imported: the package is an optional peer.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(name) as Record<string, unknown>;
  } catch (error) {
    // Only the package itself missing; a failure inside it (a missing dependency of its own) is its error.
    const missing = (error as { code?: unknown }).code === 'MODULE_NOT_FOUND' && String((error as Error).message).includes(`'${name}'`);
    if (!missing) throw error;
    throw new TransportNotInstalledError(`client '${client}' needs ${name}, which is not installed: npm install ${name}`, { cause: error });
  }
}
