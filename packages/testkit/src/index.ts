export { transportContract } from './contract';
export type { ContractHarness, ContractOptions } from './contract';
