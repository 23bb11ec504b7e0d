export { runStackCli } from './cli';
export { createLocalStack } from './local-stack';
export type { LocalStack, LocalStackOptions, ServiceStatus } from './local-stack';
export { ALL_SERVICES, DEFAULT_PORTS, kafkaNodesOf, printableEndpoints, resolveStackConfig, stackEndpoints, SUPPORTED_BROKER_COUNTS } from './config';
export type { KafkaNode, ServiceName, StackConfig, StackEndpoints, StackOptions, StackPorts } from './config';
export { ensureDebianPackages } from './prerequisites';
export {
  StackCommandError,
  StackConfigError,
  StackPortInUseError,
  StackPrerequisiteError,
  StackServiceUnhealthyError,
} from './errors';
