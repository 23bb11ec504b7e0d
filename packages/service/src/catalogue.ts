import type { AvroSchema } from '@evkit/codec';
import type { HandlerContext } from '@evkit/consumer';
import type { CloudEvent, CloudEventInit } from '@evkit/envelope';
import { UnknownCatalogueTypeError } from './errors';

/**
 * The event types a service knows: each type's Avro schema, and (for the compiler only) its data
 * type. `evkit codegen` emits one as `catalogue`, from `eventSchemas` and `EventDataMap`.
 */
export interface EventCatalogue<M> {
  readonly schemas: { readonly [K in keyof M]: AvroSchema };
  /** Never read: it carries each type's data type to the compiler. */
  readonly dataTypes?: M;
}

/** The catalogue's event type strings. */
export type EventTypeOf<M> = keyof M & string;

/** The attributes a caller may set besides type and data; id, time and correlation are filled in. */
type Attributes = Omit<CloudEventInit<unknown>, 'type' | 'data' | 'specversion' | 'partitionkey' | 'extensions' | 'source'> & { source?: string };

/**
 * An event to publish: one member per type, so `data` is checked against the type's data. `key`
 * is the record key (the aggregate id): one key's events keep their order.
 */
export type CatalogueEvent<M> = { [K in EventTypeOf<M>]: Attributes & { type: K; data: M[K]; key?: string } }[EventTypeOf<M>];

/** The same for the outbox, where the key is required: it is the unit of relay order. */
export type OutboxEvent<M> = { [K in EventTypeOf<M>]: Attributes & { type: K; data: M[K]; key: string } }[EventTypeOf<M>];

/** A handler's context; with dedupe its `transaction` is always there. */
export type ServiceHandlerContext<Tx> = [Tx] extends [undefined] ? HandlerContext<undefined> : Omit<HandlerContext<Tx>, 'transaction'> & { readonly transaction: Tx };

export type ServiceHandler<M, K extends EventTypeOf<M>, Tx> = (event: CloudEvent<M[K]>, context: ServiceHandlerContext<Tx>) => Promise<void>;

/** The schema of `type`, or a typed error for a type the catalogue does not have. */
export function schemaOf<M>(catalogue: EventCatalogue<M>, type: string): AvroSchema {
  const schema = Object.prototype.hasOwnProperty.call(catalogue.schemas, type) ? (catalogue.schemas as Record<string, AvroSchema>)[type] : undefined;
  if (schema === undefined) {
    const known = Object.keys(catalogue.schemas).join(', ');
    throw new UnknownCatalogueTypeError(`event type ${JSON.stringify(type)} is not in the catalogue (${known})`);
  }
  return schema;
}

/** The producer's and outbox's event spec for a catalogue event: `key` becomes `partitionkey`. */
export function specOf<M>(event: CatalogueEvent<M> | OutboxEvent<M>): { spec: Omit<CloudEventInit<unknown>, 'specversion' | 'source'> & { source?: string }; key: string | undefined } {
  const { key, ...spec } = event as Attributes & { type: string; data: unknown; key?: string };
  return { spec: key === undefined ? spec : { ...spec, partitionkey: key }, key };
}
