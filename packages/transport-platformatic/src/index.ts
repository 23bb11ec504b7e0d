export { createPlatformaticPublisher } from './publisher';
export type { PlatformaticPublisherOptions } from './publisher';
export { createPlatformaticSubscriber } from './subscriber';
export type { PlatformaticSubscriberOptions } from './subscriber';
export type { PlatformaticClientOptions } from './client';
export { createTopicsAndWait } from './topics';
export type { NewTopic } from './topics';
