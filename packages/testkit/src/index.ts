export { transportContract } from './contract';
export type { ContractHarness, ContractOptions, NetworkHarness } from './contract';
export { startKafkaProxy } from './kafka-proxy';
export type { KafkaProxy } from './kafka-proxy';
