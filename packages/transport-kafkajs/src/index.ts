export { createKafkaJsPublisher } from './publisher';
export type { KafkaJsPublisherOptions } from './publisher';
export { createKafkaJsSubscriber } from './subscriber';
export type { KafkaJsSubscriberOptions } from './subscriber';
export type { KafkaJsClientOptions } from './client';
export { createTopicsAndWait } from './topics';
export { kafkaJsLogCreator, withKafkaJsLogger } from './kafkajs-log';
