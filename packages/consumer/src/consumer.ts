import { setMaxListeners } from 'node:events';
import { boundedErrorText } from '@evkit/errors';
import { metrics, type Attributes } from '@opentelemetry/api';
import { createJsonLogger } from '@evkit/telemetry';
import { loadTransport, partitionKeyOf, topicPartitionOf, type KafkaClientName, type KafkaSubscriberOptions } from '@evkit/transport';
import { canBatch } from './batch-transaction';
import { ConsumerConfigError } from './errors';
import type { EventHandler } from './handler';
import { LagReporter, type PartitionLag } from './lag';
import { resolveOptions, type ConsumerOptions, type RouteOptions } from './options';
import { PartitionRunner } from './partition-runner';
import { resolvePipeline } from './pipeline';
import { Router } from './router';
import { retryStart } from './start-retry';

export interface Consumer {
  /**
   * Registers the handler for an event type, before `start`. `T` is the data's shape;
   * `TTransaction` what the idempotency store hands the handler (`PoolClient` for PostgreSQL).
   */
  on<T, TTransaction = unknown>(eventType: string, handler: EventHandler<T, TTransaction>, options?: RouteOptions): Consumer;
  start(): Promise<void>;
  /**
   * Finishes records in flight and commits them. A transport the consumer created (from `kafka`)
   * is disconnected, which leaves the group; one passed in is paused and left connected: it is
   * the caller's to disconnect.
   */
  stop(): Promise<void>;
  /** Stops fetching every partition this consumer has (backpressure from outside). */
  pause(): void;
  resume(): void;
  lag(): Promise<PartitionLag[]>;
}

/**
 * Wires the pieces: the options (checked against one table), the middleware pipeline, the router
 * (routes, decoding), the partition runner (queues, commits, deferral, back-off) and lag.
 */
export function createConsumer<C extends KafkaClientName = 'kafkajs'>(options: ConsumerOptions<C>): Consumer {
  const config = resolveOptions(options);
  const { idempotency } = options;
  const storeBatches = canBatch(idempotency);
  if (config.dedupeBatching === true && !storeBatches) {
    throw new ConsumerConfigError('dedupeBatching needs an idempotency store that batches (createPostgresIdempotencyStore)');
  }
  if (config.dedupeBatching === true && config.keyConcurrency > 1) {
    throw new ConsumerConfigError("keyConcurrency cannot exceed 1 with dedupeBatching: a partition's records run one after another in its transaction");
  }
  // Not given: on wherever it is safe, a store that batches and one record of a partition at a time.
  const batching = config.dedupeBatching ?? config.keyConcurrency === 1;
  const batchingStore = batching && storeBatches ? idempotency : undefined;
  const pipeline = resolvePipeline(options.middleware ?? [], { handlerTimeoutMs: config.handlerTimeoutMs, idempotency: options.idempotency });
  const { routing } = pipeline;
  const { groupId } = options;
  if (routing && routing.groupId !== groupId) throw new ConsumerConfigError(`the failure routing's group ${routing.groupId} is not the consumer's group ${groupId}`);
  if (config.unknownEventTypes === 'dead-letter' && !routing) {
    throw new ConsumerConfigError('unknownEventTypes: dead-letter needs a failure routing middleware (@evkit/retry) in middleware');
  }
  const routed = routing?.topicsFor(options.topics);
  const topics = [...options.topics, ...(routed?.subscribe ?? [])];
  const ensureTopics = [...(options.ensureTopics ?? []), ...(routed?.ensure ?? [])];

  // Failures are never silent by default: JSON lines on stderr, warnings and errors only.
  const logger = options.logger ?? createJsonLogger('warn');
  // One back-off, the runner's (failureBackoff): the subscriber's own pause after a failed batch is off.
  // One rule across evkit: a transport passed in is the caller's to close, one made here is ours.
  const ownsTransport = options.transport === undefined;
  // (TypeScript cannot see that an Omit of the generic options plus the omitted key is the options.)
  const transport =
    options.transport ??
    loadTransport(options.client ?? 'kafkajs').createSubscriber({ ...options.kafka!, redeliveryDelayMs: 0 } as KafkaSubscriberOptions<C>, options.logger);
  const batchesInFlight = new Set<Promise<void>>();
  const stopController = new AbortController();
  // One listener per record in flight whose handler reads its signal, removed when it completes:
  // bounded by maxInFlight.
  setMaxListeners(0, stopController.signal);
  let running = false;
  let paused = false;
  const assigned = new Set<string>();
  // One attributes object per (attributes, outcome): the router hands out one per topic and type.
  const withOutcomes = new WeakMap<object, Map<string, Attributes>>();
  const withOutcome = (outcome: string, attributes: Attributes): Attributes => {
    let byOutcome = withOutcomes.get(attributes);
    if (!byOutcome) withOutcomes.set(attributes, (byOutcome = new Map<string, Attributes>()));
    let combined = byOutcome.get(outcome);
    if (!combined) byOutcome.set(outcome, (combined = Object.freeze({ outcome, ...attributes })));
    return combined;
  };
  const handledCounter = metrics.getMeter('@evkit/consumer').createCounter('evkit.consumer.events', { description: 'Events handled, by outcome' });

  const router = new Router({
    groupId,
    codec: options.codec,
    logger,
    unknownEventTypes: config.unknownEventTypes,
    stop: stopController.signal,
    count: (outcome, attributes) => handledCounter.add(1, withOutcome(outcome, attributes)),
  });
  const lag = new LagReporter(transport, groupId, topics, () => running);
  const runner = new PartitionRunner({
    transport,
    router,
    lag,
    logger,
    stop: stopController.signal,
    keyConcurrency: config.keyConcurrency,
    maxInFlight: config.maxInFlight,
    commitIntervalMs: config.commitIntervalMs,
    backoff: { initialMs: config.backoffInitialMs, maxMs: config.backoffMaxMs },
    batchingStore,
    deferUntil: routing ? (record) => routing.deferUntil(record) : undefined,
    mayResume: () => !paused && running,
    onError: options.onError,
  });

  /** Connects, creates the topics it needs, joins the group. Each step may be tried again. */
  const join = async () => {
    await transport.connect();
    if (ensureTopics.length > 0) await transport.ensureTopics(ensureTopics);
    await transport.run({
      groupId,
      topics,
      ...(options.fromBeginning === undefined ? {} : { fromBeginning: options.fromBeginning }),
      handleBatch: async (batch) => {
        const partition = { topic: batch.topic, partition: batch.partition };
        // Stopped, but the caller's transport still runs: fetch nothing more, commit nothing.
        if (stopController.signal.aborted) return transport.pause([partition]);
        assigned.add(partitionKeyOf(batch.topic, batch.partition));
        const run = runner.run(batch);
        batchesInFlight.add(run);
        try {
          await run;
        } finally {
          batchesInFlight.delete(run);
        }
      },
    });
  };

  const consumer: Consumer = {
    on<T, TTransaction = unknown>(eventType: string, handler: EventHandler<T, TTransaction>, routeOptions: RouteOptions = {}) {
      if (running) throw new ConsumerConfigError('register handlers before start()');
      router.add(eventType, handler as EventHandler, routeOptions);
      return consumer;
    },
    async start() {
      if (running) return;
      if (stopController.signal.aborted) throw new ConsumerConfigError('a stopped consumer cannot start again; create a new one');
      if (router.size === 0) throw new ConsumerConfigError('register at least one handler with on() before start()');
      router.seal(pipeline);
      running = true;
      try {
        await retryStart(join, { timeoutMs: config.startTimeoutMs, signal: stopController.signal, logger });
      } catch (error) {
        // A failed start leaves nothing running (no socket keeps the process alive); start() may
        // be called again. A transport passed in stays the caller's.
        running = false;
        if (ownsTransport) {
          await transport.disconnect().catch((cleanup: unknown) => logger.warn('could not disconnect after a failed start', { error: boundedErrorText(cleanup) }));
        }
        throw error;
      }
    },
    async stop() {
      if (!running) return;
      stopController.abort(new Error('consumer stopping'));
      running = false;
      if (ownsTransport) return transport.disconnect(); // it waits for the batches in flight itself
      transport.pause([...assigned].map(topicPartitionOf));
      // Their commits still count: the caller's transport is connected and the partitions assigned.
      await Promise.allSettled([...batchesInFlight]);
    },
    pause() {
      paused = true;
      transport.pause([...assigned].map(topicPartitionOf));
    },
    resume() {
      if (!paused) return;
      paused = false;
      transport.resume([...assigned].map(topicPartitionOf));
    },
    lag: () => lag.lag(),
  };
  return consumer;
}
