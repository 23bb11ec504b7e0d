export type {
  IncomingRecord,
  OutgoingRecord,
  PartitionBatch,
  PartitionOffsets,
  PublisherTransport,
  RecordPosition,
  SubscribeOptions,
  SubscriberErrorListener,
  SubscriberTransport,
  TopicPartition,
  TopicSpec,
} from './transport';
export { murmur2, partitionForKey, toPositive } from './murmur2';
export { partitionKeyOf, topicPartitionOf } from './partition-key';
export { createInMemoryBroker } from './in-memory';
export type { InMemoryBroker, InMemoryBrokerOptions, InMemorySubscriber, InMemorySubscriberOptions, InMemoryTopic } from './in-memory';
export { toTopicSpecs, validateSubscribeOptions } from './subscribe-options';
export {
  BatchHandlerError,
  ConsumerCrashError,
  TransportCommitError,
  TransportConfigError,
  TransportConnectError,
  TransportOffsetsError,
  TransportSendError,
  TransportStateError,
  TransportTopicsError,
} from './errors';
