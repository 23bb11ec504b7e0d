import { Pool, type PoolClient } from 'pg';
import { createAvroCodec, type AvroCodec, type RegistryOptions, type SchemaRegistryClient, type SubjectNameStrategy } from '@evkit/codec';
import { createConsumer, type Consumer, type ConsumerOptions, type EventHandler, type PartitionLag, type RouteOptions } from '@evkit/consumer';
import { boundedErrorText } from '@evkit/errors';
import { createPostgresIdempotencyStore, type IdempotencyStore, type PostgresIdempotencyStore } from '@evkit/idempotency';
import { createOutboxWriter, createPollingRelay, inTransaction, migrateOutbox, type OutboxWritten, type PollingRelay, type PollingRelayOptions } from '@evkit/outbox';
import { createProducer, type Producer, type Published } from '@evkit/producer';
import { createFailureRouting } from '@evkit/retry';
import { createJsonLogger, type Logger } from '@evkit/telemetry';
import {
  loadTransport,
  type KafkaClientName,
  type KafkaConnectionOf,
  type KafkaJsConnectionOptions,
  type KafkaSubscriberOptions,
  type PublisherTransport,
  type SubscriberTransport,
} from '@evkit/transport';
import { schemaOf, specOf, type CatalogueEvent, type EventCatalogue, type EventTypeOf, type OutboxEvent, type ServiceHandler } from './catalogue';
import { ServiceClosedError, ServiceConfigError } from './errors';
import { validateConsumerSpec, validateEvkitOptions } from './options';

/** PostgreSQL for the outbox and the dedupe store: a pool of yours (yours to end), or a connection string (evkit's pool). */
export type PostgresOptions = ({ pool: Pool; connectionString?: never } | { connectionString: string; pool?: never; maxConnections?: number }) & {
  /** The dedupe store's processed-events table, optionally schema-qualified; `migrate` creates it. Default `evkit_processed_events`. */
  processedEventsTable?: string;
  /**
   * The outbox table, optionally schema-qualified; `write`, the relay and `migrate` use it. Default `evkit_outbox`.
   * Give each relay its own: a table Debezium relays must not be relayed by a polling relay as well.
   */
  outboxTable?: string;
};

/** Transports of your own, or the in-memory broker in tests, instead of the ones made on `client` from `kafka`. evkit disconnects what these make. */
export interface TransportFactory {
  publisher(): PublisherTransport;
  subscriber(): SubscriberTransport;
}

export interface EvkitOptions<M, P extends PostgresOptions | undefined, C extends KafkaClientName = KafkaClientName> {
  /** The CloudEvents `source` of every event this service publishes, e.g. `/orders-service`. */
  source: string;
  /** The event types, their schemas and data types: the `catalogue` that `evkit codegen` emits. */
  catalogue: EventCatalogue<M>;
  /** The Kafka client of every part (its transport package must be installed). Default `'kafkajs'`. */
  client?: C;
  /** The client's connection options: brokers, TLS, SASL, client id. Given once, used by every part. */
  kafka?: KafkaConnectionOf<C>;
  transports?: TransportFactory;
  /** The schema registry (Confluent API): url, auth, timeouts; or a client of your own. */
  registry: RegistryOptions | SchemaRegistryClient;
  /** Needed by the outbox and by consumers with `dedupe`. */
  postgres?: P;
  /** Default `topic-record`, as the CLI and `schemas/subjects.json`. */
  subjectNameStrategy?: SubjectNameStrategy;
  /** Register unknown schemas at publish time. Default true; turn off where the deploy step registers them. */
  autoRegister?: boolean;
  /** Default: JSON lines on stderr at `warn` and above, each failure with its code and message. */
  logger?: Logger;
}

/** Retry topics and a dead-letter topic, declared on the consumer (as Spring's `@RetryableTopic`). */
export interface RetrySpec {
  /** Attempts in all, the first included. Default 4. */
  attempts?: number;
  /** Delay before each retry; the last repeats. Default 1 s, 10 s, 60 s. */
  delaysMs?: readonly number[];
  /** Each delay is spread by up to this share either way, so retries of many records do not land at once. Default 0.2; 0 for exact delays. */
  jitter?: number;
  /** `non-blocking` (default): retries go through retry topics and the partition goes on. `blocking`: in place, order kept. */
  mode?: 'non-blocking' | 'blocking';
}

export type ServiceConsumerOptions<D extends boolean> = Omit<ConsumerOptions, 'codec' | 'transport' | 'client' | 'kafka' | 'idempotency' | 'logger'> & {
  /** Default on with RetrySpec's defaults; `false` for none (a failing record then stops its partition). */
  retry?: RetrySpec | false;
  /**
   * The processed-events row in the handler's transaction (`ctx.transaction`). Default: on when
   * `postgres` is given. `{ store }` is on, with the dedupe store wrapped (to observe its batch
   * commits, for instance).
   */
  dedupe?: D | (D extends true ? DedupeSpec : never);
  /**
   * Group options of the subscriber (session timeout, fetch sizes); `restartOnFailure` is
   * KafkaJS's only, `groupInstanceId` (static membership: a restarted pod takes its partitions
   * back without waiting out its session) @platformatic/kafka's only.
   */
  group?: Omit<KafkaSubscriberOptions<'kafkajs'>, keyof KafkaJsConnectionOptions | 'redeliveryDelayMs'>;
};

export interface DedupeSpec {
  /** Called once per consumer with evkit's store; the consumer uses what it returns. Its `close` is not called: evkit closes the store given. */
  store: (store: PostgresIdempotencyStore) => IdempotencyStore;
}

export interface ServiceConsumer<M, Tx> {
  /** Registers the handler of an event type of the catalogue; the data type follows from the type. */
  on<K extends EventTypeOf<M>>(type: K, handler: ServiceHandler<M, K, Tx>, options?: RouteOptions): ServiceConsumer<M, Tx>;
  /** Creates missing topics (its own, retry and dead-letter ones), joins the group; retries a broker not ready yet within `startTimeoutMs`. */
  start(): Promise<void>;
  stop(): Promise<void>;
  pause(): void;
  resume(): void;
  lag(): Promise<PartitionLag[]>;
}

export interface Evkit<M, HasPostgres extends boolean> {
  /** Publishes one event now; resolves once all in-sync replicas have it. The schema is the catalogue's for `event.type`. */
  publish(topic: string, event: CatalogueEvent<M>): Promise<Published<unknown>>;
  /** Publishes events in one request, in order; resolves once all in-sync replicas have every one, or rejects for them all. */
  publishBatch(topic: string, events: readonly CatalogueEvent<M>[]): Promise<Published<unknown>[]>;
  /** Adds an event to the outbox inside `tx` (see `inTransaction`): it is relayed only if the transaction commits. */
  write: HasPostgres extends true ? (tx: PoolClient, topic: string, event: OutboxEvent<M>) => Promise<OutboxWritten<unknown>> : never;
  /** Runs `work` in a transaction on a pooled client: COMMIT when it resolves, ROLLBACK when it throws. */
  inTransaction: HasPostgres extends true ? <R>(work: (tx: PoolClient) => Promise<R>) => Promise<R> : never;
  /** Creates the outbox and processed-events tables unless they exist. */
  migrate: HasPostgres extends true ? () => Promise<void> : never;
  /** Starts the polling relay of the outbox (one per process); `close()` stops it. */
  startRelay: HasPostgres extends true ? (options?: Pick<PollingRelayOptions, 'batchSize' | 'intervalMs'>) => void : never;
  consumer(options: ServiceConsumerOptions<false> & { dedupe: false }): ServiceConsumer<M, undefined>;
  consumer(options: ServiceConsumerOptions<HasPostgres>): ServiceConsumer<M, HasPostgres extends true ? PoolClient : undefined>;
  /** Stops consumers and the relay, waits for publishes in flight, and releases everything evkit created. */
  close(): Promise<void>;
}

/**
 * One entry point: brokers, registry, database and catalogue given once; the producer, outbox,
 * relay, consumers, dedupe store and failure routing made from them on first use, and released
 * by `close()`. Each part stays usable alone through its own package.
 */
export function createEvkit<M, P extends PostgresOptions | undefined = undefined, C extends KafkaClientName = 'kafkajs'>(
  options: EvkitOptions<M, P, C>,
): Evkit<M, P extends PostgresOptions ? true : false> {
  validateEvkitOptions(options);
  const logger = options.logger ?? createJsonLogger('warn');
  const { kafka } = options;
  const client: C | 'kafkajs' = options.client ?? 'kafkajs';
  // Loaded now, so a client whose package is missing fails here rather than at the first publish.
  const transport = options.transports === undefined ? loadTransport(client) : undefined;
  const codec: AvroCodec = createAvroCodec({
    registry: options.registry,
    subjectNameStrategy: options.subjectNameStrategy ?? 'topic-record',
    ...(options.autoRegister === undefined ? {} : { autoRegister: options.autoRegister }),
  });
  const { catalogue, source } = options;
  const { postgres } = options;
  const ownsPool = postgres !== undefined && postgres.pool === undefined;
  const pool = postgres === undefined ? undefined : (postgres.pool ?? new Pool({ connectionString: postgres.connectionString, max: postgres.maxConnections ?? 10 }));
  if (ownsPool) pool!.on('error', (error) => logger.warn('idle PostgreSQL connection failed', { error: boundedErrorText(error) }));

  const consumers: Consumer[] = [];
  const publishers: PublisherTransport[] = [];
  const subscribers: SubscriberTransport[] = [];
  let producer: Producer | undefined;
  let retryPublisher: PublisherTransport | undefined;
  let store: PostgresIdempotencyStore | undefined;
  let relay: PollingRelay | undefined;
  let closed = false;

  const open = (what: string) => {
    if (closed) throw new ServiceClosedError(`evkit is closed: cannot ${what}`);
  };
  const needPool = (what: string): Pool => {
    if (pool === undefined) throw new ServiceConfigError(`${what} needs the postgres option`);
    return pool;
  };
  // Made from `kafka`, a part owns its transport and closes it; from `transports`, evkit does.
  const publisherOf = () => {
    if (options.transports === undefined) return { client, kafka: kafka! };
    const transport = options.transports.publisher();
    publishers.push(transport);
    return { transport };
  };
  const subscriberOf = (group: ServiceConsumerOptions<boolean>['group']) => {
    // (TypeScript cannot see that the connection options of C and the group options are C's subscriber options.)
    if (options.transports === undefined) return { client, kafka: { ...kafka, ...group } as KafkaSubscriberOptions<C | 'kafkajs'> };
    const transport = options.transports.subscriber();
    subscribers.push(transport);
    return { transport };
  };
  const outboxTable = postgres?.outboxTable === undefined ? {} : { table: postgres.outboxTable };
  const writer = () => createOutboxWriter({ codec, source, ...outboxTable });
  let outboxWriter: ReturnType<typeof writer> | undefined;
  // One publisher for every consumer's retry and dead-letter records, closed by close().
  const sharedRetryPublisher = () => {
    const publisher = options.transports?.publisher() ?? transport!.createPublisher(kafka!, logger);
    publishers.push(publisher);
    return publisher;
  };
  const dedupeStore = () =>
    (store ??= createPostgresIdempotencyStore({
      pool: needPool('dedupe'),
      ...(postgres?.processedEventsTable === undefined ? {} : { table: postgres.processedEventsTable }),
    }));

  const theProducer = () => (producer ??= createProducer({ codec, source, logger, ...publisherOf() }));

  const evkit = {
    async publish(topic: string, event: CatalogueEvent<M>) {
      open('publish');
      const { spec } = specOf(event);
      return theProducer().publish(topic, spec, schemaOf(catalogue, event.type));
    },
    async publishBatch(topic: string, events: readonly CatalogueEvent<M>[]) {
      open('publish');
      // Every event checked against the catalogue before the first byte is sent.
      const items = events.map((event) => ({ event: specOf(event).spec, schema: schemaOf(catalogue, event.type) }));
      return theProducer().publishBatch(topic, items);
    },
    write(tx: PoolClient, topic: string, event: OutboxEvent<M>) {
      open('write to the outbox');
      needPool('the outbox');
      const { spec, key } = specOf(event);
      const { partitionkey: _key, ...rest } = spec;
      return (outboxWriter ??= writer()).write(tx, { aggregateType: topic, aggregateId: key!, event: rest, schema: schemaOf(catalogue, event.type) });
    },
    inTransaction: <R>(work: (tx: PoolClient) => Promise<R>) => inTransaction(needPool('inTransaction'), work),
    async migrate() {
      await migrateOutbox(needPool('migrate'), outboxTable);
      await dedupeStore().ensure();
    },
    startRelay(relayOptions: Pick<PollingRelayOptions, 'batchSize' | 'intervalMs'> = {}) {
      open('start the relay');
      if (relay) return;
      relay = createPollingRelay({
        ...relayOptions,
        ...outboxTable,
        pool: needPool('the relay'),
        ...publisherOf(),
        logger,
        onError: (error) => logger.error('outbox relay batch failed', { error: boundedErrorText(error), code: (error as { code?: string }).code }),
      });
      relay.start();
    },
    consumer(spec: ServiceConsumerOptions<boolean>) {
      open('create a consumer');
      validateConsumerSpec(spec, pool !== undefined);
      const { retry = {}, dedupe = pool !== undefined, group = {}, middleware = [], ensureTopics = [], ...rest } = spec;
      const routing =
        retry === false
          ? undefined
          : createFailureRouting({
              publisher: (retryPublisher ??= sharedRetryPublisher()),
              groupId: spec.groupId,
              ...(retry.attempts === undefined ? {} : { maxAttempts: retry.attempts }),
              ...(retry.delaysMs === undefined ? {} : { delaysMs: retry.delaysMs }),
              ...(retry.mode === undefined ? {} : { mode: retry.mode }),
              ...(retry.jitter === undefined ? {} : { jitter: retry.jitter }),
            });
      const consumer = createConsumer({
        ...rest,
        codec,
        ...subscriberOf(group),
        logger,
        ...(dedupe === false ? {} : { idempotency: dedupe === true ? dedupeStore() : dedupe.store(dedupeStore()) }),
        middleware: routing ? [routing.middleware, ...middleware] : middleware,
        // A consumer of a topic nobody has written to yet starts instead of failing.
        ensureTopics: [...spec.topics, ...ensureTopics],
      });
      consumers.push(consumer);
      const typed = {
        on(type: string, handler: ServiceHandler<M, EventTypeOf<M>, unknown>, routeOptions?: RouteOptions) {
          consumer.on(type, handler as EventHandler, routeOptions);
          return typed;
        },
        start: () => consumer.start(),
        stop: () => consumer.stop(),
        pause: () => consumer.pause(),
        resume: () => consumer.resume(),
        lag: () => consumer.lag(),
      };
      return typed;
    },
    async close() {
      if (closed) return;
      closed = true;
      // Consumers first: their retries and dead letters still publish while they finish.
      const steps: (() => Promise<unknown>)[] = [
        () => Promise.all(consumers.map((c) => c.stop())),
        () => relay?.stop() ?? Promise.resolve(),
        () => producer?.disconnect() ?? Promise.resolve(),
        () => Promise.all([...publishers, ...subscribers].map((t) => t.disconnect())),
        () => store?.close() ?? Promise.resolve(),
        () => (ownsPool ? pool!.end() : Promise.resolve()),
      ];
      const failures: unknown[] = [];
      for (const step of steps) {
        try {
          await step();
        } catch (error) {
          failures.push(error);
        }
      }
      if (failures.length === 1) throw failures[0];
      if (failures.length > 1) throw new AggregateError(failures, `evkit close: ${failures.length} parts failed to close`);
    },
  };
  return evkit as unknown as Evkit<M, P extends PostgresOptions ? true : false>;
}

