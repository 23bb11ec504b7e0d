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
  TransportNotInstalledError,
  TransportOffsetsError,
  TransportSendError,
  TransportStateError,
  TransportTopicsError,
} from './errors';
export { checkBrokers, checkNonNegativeInteger, checkOptionsObject, checkPositiveInteger } from './option-checks';
export { connectOnce } from './connect-once';
export type { ClientErrorReader, ConnectOnce } from './connect-once';
export { createTopicsAndWaitWith, DEFAULT_LEADER_TIMEOUT_MS, ensureTopicsWith, MAX_MESSAGE_BYTES } from './ensure-topics';
export type { EnsureTopicsOptions, TopicAdmin, TopicLimitValue, TopicToCreate } from './ensure-topics';
export { resolveSubscriberTuning } from './subscriber-tuning';
export type { SubscriberTuning, SubscriberTuningOptions } from './subscriber-tuning';
export { createSendCoalescer, resolveSendCoalescing } from './send-coalescer';
export type { SendCoalescer, SendCoalescing, SendCoalescingOptions } from './send-coalescer';
export { isKafkaClientName, KAFKA_CLIENTS, kafkaClientProblem } from './kafka-clients';
export type {
  KafkaClientName,
  KafkaConnectionOf,
  KafkaConnectionOptions,
  KafkaJsConnectionOptions,
  KafkaPublisherOptions,
  KafkaSubscriberOptions,
  PlatformaticConnectionOptions,
} from './kafka-clients';
export { loadTransport, TRANSPORT_PACKAGES } from './load-transport';
export type { KafkaTransport } from './load-transport';
