// Over 300 lines for a reason: createConsumer is one closure whose state (routes, partitions in
// back-off, lag, the stop signal) the batch loop, the handler chain and lag() all share.
import { setMaxListeners } from 'node:events';
import { metrics, type Attributes } from '@opentelemetry/api';
import type { AvroCodec, AvroSchema, DecodedRecord } from '@evkit/codec';
import { bindingModeOf, headerText, runWithEventContext } from '@evkit/envelope';
import { boundedErrorText, isEvkitError } from '@evkit/errors';
import type { IdempotencyStore } from '@evkit/idempotency';
import { childLogger, eventLogFields, withConsumerSpan, type Logger } from '@evkit/telemetry';
import type { IncomingRecord, PartitionBatch, SubscriberTransport, TopicSpec } from '@evkit/transport';
import { createKafkaJsSubscriber, type KafkaJsSubscriberOptions } from '@evkit/transport-kafkajs';
import { BatchTransaction, canBatch, type ClaimableRecord } from './batch-transaction';
import { ConsumerConfigError, UnknownEventTypeError } from './errors';
import { compose, type DeadLetterSink, type EventHandler, type HandlerContext, type Middleware } from './handler';
import { HandlerAttempt } from './handler-attempt';
import { dedupe, timeout } from './middleware';
import { OffsetTracker } from './offset-tracker';

export interface RouteOptions {
  /** Decode into this schema (reader-schema evolution). Default: the writer's schema. */
  readerSchema?: AvroSchema;
  /** Only records written with this schema id (routing by schema version); such a route wins over one without. */
  schemaId?: number;
}

export interface ConsumerOptions {
  groupId: string;
  topics: readonly string[];
  codec: AvroCodec;
  /** A transport of your own; by default KafkaJS with `kafka`. */
  transport?: SubscriberTransport;
  kafka?: KafkaJsSubscriberOptions;
  /** Makes handlers idempotent (the dedupe middleware, innermost). */
  idempotency?: IdempotencyStore;
  /**
   * Dedupe per Kafka batch instead of per record, with a store that can (the PostgreSQL store):
   * one transaction per partition batch, one statement claiming its event ids, a SAVEPOINT per
   * record whose handler uses the transaction, one COMMIT, then the offset. A partition's records
   * then run one after another (`keyConcurrency` must stay 1); partitions still run at once.
   * Default false.
   */
  dedupeBatching?: boolean;
  /** Around every handler, first listed outermost, inside tracing and timeout, outside dedupe. */
  middleware?: readonly Middleware[];
  /**
   * `skip` (default): warn, count and commit past it. `fail`: treat as a handler failure.
   * `dead-letter`: send it to `deadLetter`.
   */
  unknownEventTypes?: 'skip' | 'fail' | 'dead-letter';
  /**
   * Where undecodable records (and unknown types, when so configured) go instead of stalling the
   * partition. Failures the registry may recover from (unreachable) stall and retry instead.
   */
  deadLetter?: DeadLetterSink;
  /**
   * When a record may be handled, ms since the epoch (retry tiers delay this way). Until then its
   * partition is paused; other partitions carry on (those in the same KafkaJS fetch may wait).
   */
  deferUntil?: (record: IncomingRecord) => number | undefined;
  /** Records of different keys in one partition handled at once. Default 1 (one at a time). Same-key order always holds. */
  keyConcurrency?: number;
  /** Records in flight across all partitions. Default 64. */
  maxInFlight?: number;
  /** Abort and fail an attempt after this long. Default none. */
  handlerTimeoutMs?: number;
  /** Back-off before a failed partition is delivered again: doubles from `initialMs` up to `maxMs`. */
  failureBackoff?: { initialMs?: number; maxMs?: number };
  /** Commit at least this often during a long batch. Default 1000 ms. */
  commitIntervalMs?: number;
  fromBeginning?: boolean;
  /**
   * Topics created at `start` when missing, e.g. the retry tiers this consumer reads; a spec can
   * size a topic like another (`sizedLike`).
   */
  ensureTopics?: readonly (string | TopicSpec)[];
  logger?: Logger;
  /** Every failure that stops a partition, besides the error log line. */
  onError?: (error: unknown, record: IncomingRecord) => void;
}

export interface PartitionLag {
  topic: string;
  partition: number;
  committedOffset: string;
  highWatermark: string;
  /** Records not yet handled and committed. */
  offsetLag: number;
  /** Age of the oldest record fetched but not handled, ms; 0 when caught up; undefined when unknown. */
  timeLagMs: number | undefined;
}

export interface Consumer {
  /**
   * Registers the handler for an event type, before `start`. `T` is the data's shape;
   * `TTransaction` what the idempotency store hands the handler (`PoolClient` for PostgreSQL).
   */
  on<T, TTransaction = unknown>(eventType: string, handler: EventHandler<T, TTransaction>, options?: RouteOptions): Consumer;
  start(): Promise<void>;
  /** Finishes records in flight, commits them, leaves the group. */
  stop(): Promise<void>;
  /** Stops fetching every partition this consumer has (backpressure from outside). */
  pause(): void;
  resume(): void;
  lag(): Promise<PartitionLag[]>;
}

interface Route {
  handler: EventHandler;
  readerSchema: AvroSchema | undefined;
}

/** Node's longest timer, 2^31-1 ms (24.8 days): a longer one fires at once (a pause/resume busy loop). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

function positiveInteger(value: number | undefined, fallback: number, name: string, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new ConsumerConfigError(`${name} must be a positive integer${max === Number.MAX_SAFE_INTEGER ? '' : ` up to ${max}`}, got ${value}`);
  }
  return value;
}

/** A counting semaphore: bounds work in flight across partitions. */
class Semaphore {
  private waiting: (() => void)[] = [];
  constructor(private free: number) {}
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free -= 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free += 1;
  }
}

export function createConsumer(options: ConsumerOptions): Consumer {
  if (options === null || typeof options !== 'object') throw new ConsumerConfigError('options are required');
  if (typeof options.groupId !== 'string' || options.groupId.length === 0) throw new ConsumerConfigError('groupId is required');
  if (!Array.isArray(options.topics) || options.topics.length === 0) throw new ConsumerConfigError('topics must list at least one topic');
  if (!options.codec || typeof options.codec.decode !== 'function') throw new ConsumerConfigError('codec is required (createAvroCodec)');
  if (!options.transport && !options.kafka) throw new ConsumerConfigError('give either transport or kafka (KafkaJS client options)');
  const unknownPolicy = options.unknownEventTypes ?? 'skip';
  if (!['skip', 'fail', 'dead-letter'].includes(unknownPolicy)) {
    throw new ConsumerConfigError(`unknownEventTypes must be skip, fail or dead-letter, got ${String(unknownPolicy)}`);
  }
  if (unknownPolicy === 'dead-letter' && !options.deadLetter) throw new ConsumerConfigError('unknownEventTypes: dead-letter needs the deadLetter option');
  const keyConcurrency = positiveInteger(options.keyConcurrency, 1, 'keyConcurrency');
  if (options.dedupeBatching !== undefined && typeof options.dedupeBatching !== 'boolean') throw new ConsumerConfigError('dedupeBatching must be a boolean');
  const batchingStore = options.dedupeBatching && canBatch(options.idempotency) ? options.idempotency : undefined;
  if (options.dedupeBatching && !batchingStore) {
    throw new ConsumerConfigError('dedupeBatching needs an idempotency store that batches (createPostgresIdempotencyStore)');
  }
  if (batchingStore && keyConcurrency > 1) {
    throw new ConsumerConfigError("keyConcurrency cannot exceed 1 with dedupeBatching: a partition's records run one after another in its transaction");
  }
  const slots = new Semaphore(positiveInteger(options.maxInFlight, 64, 'maxInFlight'));
  const commitIntervalMs = options.commitIntervalMs ?? 1000;
  // Each is a timer: Node fires one longer than MAX_TIMER_MS at once.
  const backoffInitial = positiveInteger(options.failureBackoff?.initialMs, 200, 'failureBackoff.initialMs', MAX_TIMER_MS);
  const backoffMax = positiveInteger(options.failureBackoff?.maxMs, 30_000, 'failureBackoff.maxMs', MAX_TIMER_MS);
  if (options.handlerTimeoutMs !== undefined && !(options.handlerTimeoutMs > 0 && options.handlerTimeoutMs <= MAX_TIMER_MS)) {
    throw new ConsumerConfigError(`handlerTimeoutMs must be positive and at most ${MAX_TIMER_MS}`);
  }

  const { groupId, codec } = options;
  const logger = options.logger ?? silent;
  const transport = options.transport ?? createKafkaJsSubscriber(options.kafka!);
  const routes = new Map<string, { any?: Route; bySchemaId: Map<number, Route> }>();
  const failures = new Map<string, number>(); // consecutive failures per partition, for back-off
  // Partition → timestamp of its oldest record fetched but not handled (kept while a failed
  // partition backs off, so time lag keeps growing).
  const oldestUnhandled = new Map<string, number>();
  const stopController = new AbortController();
  // One listener per record in flight whose handler reads its signal, removed when it completes:
  // bounded by maxInFlight.
  setMaxListeners(0, stopController.signal);
  let running = false;
  let paused = false;
  const assigned = new Set<string>();

  const meter = metrics.getMeter('@evkit/consumer');
  const handledCounter = meter.createCounter('evkit.consumer.events', { description: 'Events handled, by outcome' });

  const partitionKey = (topic: string, partition: number) => `${topic}:${partition}`;

  const routeFor = (eventType: string, schemaId?: number): Route | undefined => {
    const forType = routes.get(eventType);
    if (!forType) return undefined;
    return (schemaId === undefined ? undefined : forType.bySchemaId.get(schemaId)) ?? forType.any;
  };

  type Decoded = { decoded: DecodedRecord<unknown>; route: Route | undefined };
  const decode = async (record: IncomingRecord): Promise<Decoded> => {
    // Binary mode names the type in a header: pick the reader schema before decoding the value.
    const typeHeader = bindingModeOf(record.headers) === 'binary' ? headerText(record.headers, 'ce_type') : undefined;
    const schemaId = record.value && record.value.length >= 5 && record.value[0] === 0 ? record.value.readInt32BE(1) : undefined;
    let route = typeHeader === undefined ? undefined : routeFor(typeHeader, schemaId);
    let decoded = await codec.decode(record, route?.readerSchema === undefined ? {} : { readerSchema: route.readerSchema });
    if (typeHeader === undefined) {
      route = routeFor(decoded.event.type, decoded.schemaId);
      if (route?.readerSchema !== undefined) decoded = await codec.decode(record, { readerSchema: route.readerSchema });
    }
    return { decoded, route };
  };

  type Dedupe = Pick<IdempotencyStore, 'runOnce'> | undefined;
  // The attempt of each context in flight, for the timeout middleware to abort.
  const attempts = new WeakMap<HandlerContext, HandlerAttempt>();
  const buildChain = (handler: EventHandler, idempotency: Dedupe): EventHandler => {
    const layers: Middleware[] = [];
    if (options.handlerTimeoutMs !== undefined) {
      layers.push(timeout(options.handlerTimeoutMs, (reason, context) => attempts.get(context)?.abort(reason)));
    }
    layers.push(...(options.middleware ?? []));
    if (idempotency) layers.push(dedupe(idempotency));
    return compose(layers, handler);
  };
  // Composed once per route; with dedupeBatching the store is per batch, so that chain is per record.
  const chains = new Map<Route, EventHandler>();
  const chainFor = (route: Route, idempotency: Dedupe): EventHandler => {
    if (idempotency !== options.idempotency) return buildChain(route.handler, idempotency);
    let chain = chains.get(route);
    if (!chain) chains.set(route, (chain = buildChain(route.handler, idempotency)));
    return chain;
  };

  /** Decodes one record after the other (a schema fetched once serves the rest); a failure stays with its record. */
  const decodeAll = async (records: readonly IncomingRecord[]): Promise<Map<IncomingRecord, Promise<Decoded>>> => {
    const decodings = new Map<IncomingRecord, Promise<Decoded>>();
    for (const record of records) {
      const decoding = decode(record);
      decodings.set(record, decoding);
      await decoding.catch(() => undefined);
    }
    return decodings;
  };

  /** The event ids dedupe will ask for: those of decoded records with a handler. */
  const claimable = (decodings: Map<IncomingRecord, Promise<Decoded>>): Promise<ClaimableRecord[]> =>
    Promise.all(
      [...decodings].map(async ([record, decoding]) => ({
        offset: record.offset,
        eventId: await decoding.then(({ decoded, route }) => (route ? decoded.event.id : undefined), () => undefined),
      })),
    );

  const count = (outcome: string, attributes: Attributes) => handledCounter.add(1, { outcome, ...attributes });

  /** Handles one record; throws when the partition must stop and redeliver it. */
  const deadLetter = async (record: IncomingRecord, error: unknown, reason: 'decode' | 'unknown-type', eventType: string | undefined) => {
    const fields = { topic: record.topic, partition: record.partition, offset: record.offset, reason, code: isEvkitError(error) ? error.code : undefined };
    await options.deadLetter!.deadLetter(record, error, { groupId, reason, attempts: 1 });
    logger.error('record dead-lettered', { ...fields, eventType, error: boundedErrorText(error) });
    count('dead-lettered', { 'messaging.destination.name': record.topic, reason });
  };

  /** `decoding`: the record decoded (up front for a whole batch with dedupeBatching). */
  const handleRecord = async (record: IncomingRecord, decoding: Promise<Decoded>, idempotency: Dedupe): Promise<void> => {
    let decodedRoute: Decoded;
    try {
      decodedRoute = await decoding;
    } catch (error) {
      // Bad bytes never decode: dead-letter them. A registry outage may pass: retry in place.
      if (options.deadLetter && isEvkitError(error) && !error.retriable) return deadLetter(record, error, 'decode', undefined);
      throw error;
    }
    const { decoded, route } = decodedRoute;
    const { event } = decoded;
    // Made on first use: most records never log.
    let eventLogger: Logger | undefined;
    const eventLoggerOf = () =>
      (eventLogger ??= childLogger(logger, { ...eventLogFields(event), topic: record.topic, partition: record.partition, offset: record.offset }));
    const attributes = { 'messaging.destination.name': record.topic, 'cloudevents.event_type': event.type };
    if (!route) {
      if (unknownPolicy === 'fail') throw new UnknownEventTypeError(event.type);
      if (unknownPolicy === 'dead-letter') return deadLetter(record, new UnknownEventTypeError(event.type), 'unknown-type', event.type);
      eventLoggerOf().warn('no handler for this event type: skipped', { policy: 'skip' });
      count('skipped', attributes);
      return;
    }
    const attempt = new HandlerAttempt(stopController.signal);
    const context: HandlerContext = {
      record,
      groupId,
      schemaId: decoded.schemaId,
      get signal() {
        return attempt.signal;
      },
      get logger() {
        return eventLoggerOf();
      },
      transaction: undefined,
      duplicate: false,
    };
    attempts.set(context, attempt);
    const handler = chainFor(route, idempotency);
    try {
      await withConsumerSpan({ topic: record.topic, partition: record.partition, offset: record.offset, groupId }, event, () =>
        runWithEventContext(event, () => handler(event, context)),
      );
    } finally {
      attempt.done();
    }
    count(context.duplicate ? 'duplicate' : 'handled', attributes);
  };

  const handleBatch = async (batch: PartitionBatch): Promise<void> => {
    const key = partitionKey(batch.topic, batch.partition);
    const tracker = new OffsetTracker(batch.records);
    const noteProgress = () => {
      const next = tracker.firstPendingRecord();
      if (next) oldestUnhandled.set(key, next.timestamp);
      else oldestUnhandled.delete(key);
    };
    noteProgress();
    let failed: { error: unknown; record: IncomingRecord } | undefined;
    let deferredUntil: number | undefined;
    let lastCommit = Date.now();
    // dedupeBatching: every record decoded first, so that one statement claims their event ids.
    const decodings = batchingStore ? await decodeAll(batch.records) : undefined;
    const transaction = batchingStore && decodings ? new BatchTransaction(batchingStore, groupId, await claimable(decodings)) : undefined;
    const commitDone = async () => {
      if (transaction) {
        // The database first: a record is done once its transaction committed.
        try {
          for (const offset of await transaction.commit()) tracker.markDone(offset);
        } catch (error) {
          failed ??= { error, record: tracker.firstPendingRecord()! };
        }
        noteProgress();
      }
      const offset = tracker.commitOffset();
      if (offset !== undefined && batch.isActive()) await transport.commit({ topic: batch.topic, partition: batch.partition, offset });
      lastCommit = Date.now();
    };
    const mayStart = () => failed === undefined && deferredUntil === undefined && batch.isActive() && !stopController.signal.aborted;

    // Per-key queues in offset order; `keyConcurrency` keys at a time. One queue in a transaction.
    const keyQueues = transaction ? [[...batch.records]] : queuesByKey(batch.records);
    const worker = async () => {
      for (let queue = keyQueues.shift(); queue; queue = keyQueues.shift()) {
        for (const record of queue) {
          if (!mayStart()) return;
          let due: number | undefined;
          try {
            due = options.deferUntil?.(record);
          } catch (error) {
            failed ??= { error, record };
            break;
          }
          // NaN or a past time: due now. A time past Node's longest timer waits that long at most.
          if (due !== undefined && due > Date.now()) {
            deferredUntil = Math.min(deferredUntil ?? due, due);
            return;
          }
          await slots.acquire();
          try {
            const decoding = decodings?.get(record) ?? decode(record);
            await handleRecord(record, decoding, transaction ? transaction.storeFor(record.offset) : options.idempotency);
            if (transaction) {
              transaction.markHandled(record.offset);
            } else {
              tracker.markDone(record.offset);
              noteProgress();
            }
          } catch (error) {
            failed ??= { error, record };
            break; // the rest of this key waits for the redelivery: order holds
          } finally {
            slots.release();
          }
          if (Date.now() - lastCommit >= commitIntervalMs) {
            await batch.heartbeat();
            await commitDone();
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(keyConcurrency, keyQueues.length) }, worker));
    await commitDone();
    if (!batch.isActive()) oldestUnhandled.delete(key); // another member owns it now

    if (deferredUntil !== undefined && !failed && batch.isActive()) {
      // Not due yet: deliver again from the first record not done, once it is.
      const from = tracker.firstPendingRecord();
      const partition = [{ topic: batch.topic, partition: batch.partition }];
      if (from) transport.seek({ topic: batch.topic, partition: batch.partition, offset: from.offset });
      transport.pause(partition);
      const waitMs = Math.min(MAX_TIMER_MS, deferredUntil - Date.now());
      logger.debug('partition paused until its first record is due', { topic: batch.topic, partition: batch.partition, offset: from?.offset, waitMs });
      const timer = setTimeout(() => {
        if (!paused && running) transport.resume(partition);
      }, waitMs);
      timer.unref();
    }

    if (failed) {
      const redeliverFrom = tracker.firstPendingRecord() ?? failed.record;
      const attempts = (failures.get(key) ?? 0) + 1;
      failures.set(key, attempts);
      const delay = Math.min(backoffMax, backoffInitial * 2 ** (attempts - 1));
      const error = failed.error;
      logger.error('handling failed: partition will redeliver from the first unhandled record', {
        topic: batch.topic,
        partition: batch.partition,
        offset: failed.record.offset,
        redeliverFrom: redeliverFrom.offset,
        attempts,
        backoffMs: delay,
        code: isEvkitError(error) ? error.code : undefined,
        retriable: isEvkitError(error) ? error.retriable : undefined,
        error: boundedErrorText(error),
      });
      options.onError?.(error, failed.record);
      if (batch.isActive()) transport.seek({ topic: batch.topic, partition: batch.partition, offset: redeliverFrom.offset });
      await backOff(delay, stopController.signal);
    } else if (tracker.allDone()) {
      failures.delete(key);
    }
  };

  const consumer: Consumer = {
    on<T, TTransaction = unknown>(eventType: string, handler: EventHandler<T, TTransaction>, routeOptions: RouteOptions = {}) {
      if (running) throw new ConsumerConfigError('register handlers before start()');
      if (typeof eventType !== 'string' || eventType.length === 0) throw new ConsumerConfigError('eventType must be a non-empty string');
      if (typeof handler !== 'function') throw new ConsumerConfigError(`handler for ${eventType} must be a function`);
      const forType = routes.get(eventType) ?? { bySchemaId: new Map<number, Route>() };
      const route: Route = { handler: handler as EventHandler, readerSchema: routeOptions.readerSchema };
      if (routeOptions.schemaId === undefined) {
        if (forType.any) throw new ConsumerConfigError(`a handler for ${eventType} is already registered`);
        forType.any = route;
      } else {
        if (forType.bySchemaId.has(routeOptions.schemaId)) {
          throw new ConsumerConfigError(`a handler for ${eventType} with schema id ${routeOptions.schemaId} is already registered`);
        }
        forType.bySchemaId.set(routeOptions.schemaId, route);
      }
      routes.set(eventType, forType);
      return consumer;
    },
    async start() {
      if (running) return;
      if (stopController.signal.aborted) throw new ConsumerConfigError('a stopped consumer cannot start again; create a new one');
      if (routes.size === 0) throw new ConsumerConfigError('register at least one handler with on() before start()');
      running = true;
      await transport.connect();
      if (options.ensureTopics && options.ensureTopics.length > 0) await transport.ensureTopics(options.ensureTopics);
      await transport.run({
        groupId,
        topics: options.topics,
        ...(options.fromBeginning === undefined ? {} : { fromBeginning: options.fromBeginning }),
        handleBatch: async (batch) => {
          assigned.add(partitionKey(batch.topic, batch.partition));
          await handleBatch(batch);
        },
      });
    },
    async stop() {
      if (!running) return;
      stopController.abort(new Error('consumer stopping'));
      running = false;
      await transport.disconnect();
    },
    pause() {
      paused = true;
      transport.pause([...assigned].map(splitKey));
    },
    resume() {
      if (!paused) return;
      paused = false;
      transport.resume([...assigned].map(splitKey));
    },
    async lag() {
      const now = Date.now();
      const offsets = await transport.offsets(groupId, options.topics);
      return offsets.map((p) => {
        const committed = BigInt(p.committed);
        const highWatermark = BigInt(p.highWatermark);
        const offsetLag = Number(committed < 0n ? highWatermark : highWatermark - committed);
        const oldest = oldestUnhandled.get(partitionKey(p.topic, p.partition));
        const timeLagMs = offsetLag === 0 ? 0 : oldest !== undefined ? Math.max(0, now - oldest) : undefined;
        return {
          topic: p.topic,
          partition: p.partition,
          committedOffset: p.committed,
          highWatermark: p.highWatermark,
          offsetLag: Math.max(0, offsetLag),
          timeLagMs,
        };
      });
    },
  };

  const offsetLagGauge = meter.createObservableGauge('evkit.consumer.lag.offset', { description: 'Records not yet handled and committed, per partition' });
  const timeLagGauge = meter.createObservableGauge('evkit.consumer.lag.time', { description: 'Age of the oldest unhandled record, per partition', unit: 'ms' });
  meter.addBatchObservableCallback(async (observer) => {
    if (!running) return;
    for (const p of await consumer.lag()) {
      const attributes = { 'messaging.consumer.group.name': groupId, 'messaging.destination.name': p.topic, 'messaging.destination.partition.id': String(p.partition) };
      observer.observe(offsetLagGauge, p.offsetLag, attributes);
      if (p.timeLagMs !== undefined) observer.observe(timeLagGauge, p.timeLagMs, attributes);
    }
  }, [offsetLagGauge, timeLagGauge]);

  return consumer;
}

/** Records of one key in offset order, one queue per key. */
function queuesByKey(records: readonly IncomingRecord[]): IncomingRecord[][] {
  const queues = new Map<string, IncomingRecord[]>();
  for (const record of records) {
    // Records without a key share one queue: their relative order is kept too.
    const recordKey = record.key === null ? '' : typeof record.key === 'string' ? record.key : record.key.toString('base64');
    const queue = queues.get(recordKey);
    if (queue) queue.push(record);
    else queues.set(recordKey, [record]);
  }
  return [...queues.values()];
}

/** Waits `ms`, or less if the consumer stops meanwhile (stop must not wait out a back-off). */
function backOff(ms: number, stopped: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (stopped.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      stopped.removeEventListener('abort', done);
      resolve();
    }
    stopped.addEventListener('abort', done, { once: true });
  });
}

function splitKey(key: string): { topic: string; partition: number } {
  const at = key.lastIndexOf(':');
  return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)) };
}
