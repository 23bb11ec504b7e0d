export { createProducer } from './producer';
export type { EventSpec, Producer, ProducerOptions, Published, PublishItem } from './producer';
export { ProducerClosedError, ProducerConfigError } from './errors';
