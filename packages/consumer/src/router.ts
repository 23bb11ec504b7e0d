import type { Attributes } from '@opentelemetry/api';
import type { AvroCodec, AvroSchema, DecodedRecord } from '@evkit/codec';
import { bindingModeOf, headerText } from '@evkit/envelope';
import { boundedErrorText, isEvkitError } from '@evkit/errors';
import type { IdempotencyStore } from '@evkit/idempotency';
import { childLogger, eventLogFields, type Logger } from '@evkit/telemetry';
import type { IncomingRecord } from '@evkit/transport';
import { ConsumerConfigError, UnknownEventTypeError } from './errors';
import type { EventHandler, HandlerContext, Middleware } from './handler';
import { HandlerAttempt } from './handler-attempt';
import { BATCH_STORE } from './middleware';
import type { RouteOptions } from './options';
import type { Pipeline } from './pipeline';

interface Route {
  handler: EventHandler;
  readerSchema: AvroSchema | undefined;
  middleware: readonly Middleware[];
  /** The composed chain, built once at `seal()`. */
  chain?: EventHandler;
}

export type Decoded = { decoded: DecodedRecord<unknown>; route: Route | undefined };

export interface RouterDeps {
  groupId: string;
  codec: AvroCodec;
  logger: Logger;
  unknownEventTypes: 'skip' | 'fail' | 'dead-letter';
  stop: AbortSignal;
  count(outcome: string, attributes: Attributes): void;
}

/**
 * Routes records to handlers: by event type (and writer schema id), decoding into the route's
 * reader schema. Undecodable records and unknown types are decided here, before a handler is
 * chosen; the chain (the pipeline's middleware, the route's, the handler) is built once per route.
 */
export class Router {
  readonly groupId: string;
  private readonly routes = new Map<string, { any?: Route; bySchemaId: Map<number, Route> }>();
  private pipeline: Pipeline | undefined;
  private readonly metricAttributes = new Map<string, Map<string, Attributes>>();

  constructor(private readonly deps: RouterDeps) {
    this.groupId = deps.groupId;
  }

  get size(): number {
    return this.routes.size;
  }

  add(eventType: string, handler: EventHandler, options: RouteOptions): void {
    if (typeof eventType !== 'string' || eventType.length === 0) throw new ConsumerConfigError('eventType must be a non-empty string');
    if (typeof handler !== 'function') throw new ConsumerConfigError(`handler for ${eventType} must be a function`);
    const middleware: readonly Middleware[] = options.middleware ?? [];
    if (!Array.isArray(middleware) || middleware.some((m) => typeof m !== 'function')) {
      throw new ConsumerConfigError(`middleware of the handler for ${eventType} must be an array of functions`);
    }
    if ((middleware as readonly Middleware[]).some((m) => m.failureRouting !== undefined)) throw new ConsumerConfigError('failure routing belongs in the consumer’s middleware, not a handler’s');
    const forType = this.routes.get(eventType) ?? { bySchemaId: new Map<number, Route>() };
    const route: Route = { handler, readerSchema: options.readerSchema, middleware };
    if (options.schemaId === undefined) {
      if (forType.any) throw new ConsumerConfigError(`a handler for ${eventType} is already registered`);
      forType.any = route;
    } else {
      if (forType.bySchemaId.has(options.schemaId)) {
        throw new ConsumerConfigError(`a handler for ${eventType} with schema id ${options.schemaId} is already registered`);
      }
      forType.bySchemaId.set(options.schemaId, route);
    }
    this.routes.set(eventType, forType);
  }

  /** Builds every route's chain, once: nothing is composed per record. */
  seal(pipeline: Pipeline): void {
    this.pipeline = pipeline;
    for (const forType of this.routes.values()) {
      for (const route of [forType.any, ...forType.bySchemaId.values()]) if (route) route.chain = pipeline.chain(route.handler, route.middleware);
    }
  }

  private routeFor(eventType: string, schemaId?: number): Route | undefined {
    const forType = this.routes.get(eventType);
    if (!forType) return undefined;
    return (schemaId === undefined ? undefined : forType.bySchemaId.get(schemaId)) ?? forType.any;
  }

  async decode(record: IncomingRecord): Promise<Decoded> {
    const { codec } = this.deps;
    // Binary mode names the type in a header: pick the reader schema before decoding the value.
    const typeHeader = bindingModeOf(record.headers) === 'binary' ? headerText(record.headers, 'ce_type') : undefined;
    const schemaId = record.value && record.value.length >= 5 && record.value[0] === 0 ? record.value.readInt32BE(1) : undefined;
    let route = typeHeader === undefined ? undefined : this.routeFor(typeHeader, schemaId);
    let decoded = await codec.decode(record, route?.readerSchema === undefined ? {} : { readerSchema: route.readerSchema });
    if (typeHeader === undefined) {
      route = this.routeFor(decoded.event.type, decoded.schemaId);
      if (route?.readerSchema !== undefined) decoded = await codec.decode(record, { readerSchema: route.readerSchema });
    }
    return { decoded, route };
  }

  /**
   * Handles one decoded (or undecodable) record; throws when the partition must stop and
   * redeliver it. `batchStore`: with dedupeBatching, the store of the partition batch.
   */
  async handle(record: IncomingRecord, decoding: Promise<Decoded>, batchStore?: Pick<IdempotencyStore, 'runOnce'>): Promise<void> {
    let decodedRoute: Decoded;
    try {
      decodedRoute = await decoding;
    } catch (error) {
      // Bad bytes never decode: dead-letter them. A registry outage may pass: retry in place.
      if (this.pipeline?.routing && isEvkitError(error) && !error.retriable) return this.deadLetter(record, error, 'decode', undefined);
      throw error;
    }
    const { decoded, route } = decodedRoute;
    const { event } = decoded;
    const { logger, groupId } = this.deps;
    // Made on first use: most records never log.
    let eventLogger: Logger | undefined;
    const eventLoggerOf = () =>
      (eventLogger ??= childLogger(logger, { ...eventLogFields(event), topic: record.topic, partition: record.partition, offset: record.offset }));
    const attributes = this.attributesOf(record.topic, event.type);
    if (!route?.chain) {
      const policy = this.deps.unknownEventTypes;
      if (policy === 'fail') throw new UnknownEventTypeError(event.type);
      if (policy === 'dead-letter') return this.deadLetter(record, new UnknownEventTypeError(event.type), 'unknown-type', event.type);
      eventLoggerOf().warn('no handler for this event type: skipped', { policy: 'skip' });
      this.deps.count('skipped', attributes);
      return;
    }
    const attempt = new HandlerAttempt(this.deps.stop);
    const context: HandlerContext & { [BATCH_STORE]?: Pick<IdempotencyStore, 'runOnce'> } = {
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
    if (batchStore) context[BATCH_STORE] = batchStore;
    try {
      await route.chain(event, context);
    } finally {
      attempt.done();
    }
    this.deps.count(context.duplicate ? 'duplicate' : 'handled', attributes);
  }

  /** The metric attributes of a topic and event type: one object per pair, not per record. */
  private attributesOf(topic: string, eventType: string): Attributes {
    let byType = this.metricAttributes.get(topic);
    if (!byType) this.metricAttributes.set(topic, (byType = new Map<string, Attributes>()));
    let attributes = byType.get(eventType);
    if (!attributes) {
      attributes = Object.freeze({ 'messaging.destination.name': topic, 'cloudevents.event_type': eventType });
      // Bounded: an unknown type per record (a hostile producer) must not grow it for ever.
      if (byType.size >= 1000) byType.clear();
      byType.set(eventType, attributes);
    }
    return attributes;
  }

  private async deadLetter(record: IncomingRecord, error: unknown, reason: 'decode' | 'unknown-type', eventType: string | undefined): Promise<void> {
    const fields = { topic: record.topic, partition: record.partition, offset: record.offset, reason, code: isEvkitError(error) ? error.code : undefined };
    await this.pipeline!.routing!.deadLetter.deadLetter(record, error, { groupId: this.deps.groupId, reason, attempts: 1 });
    this.deps.logger.error('record dead-lettered', { ...fields, eventType, error: boundedErrorText(error) });
    this.deps.count('dead-lettered', { 'messaging.destination.name': record.topic, reason });
  }
}
