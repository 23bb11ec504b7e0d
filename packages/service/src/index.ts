export { createEvkit } from './evkit';
export type { DedupeSpec, Evkit, EvkitOptions, PostgresOptions, RetrySpec, ServiceConsumer, ServiceConsumerOptions, TransportFactory } from './evkit';
export type { CatalogueEvent, EventCatalogue, EventTypeOf, OutboxEvent, ServiceHandler, ServiceHandlerContext } from './catalogue';
export { ServiceClosedError, ServiceConfigError, UnknownCatalogueTypeError } from './errors';
