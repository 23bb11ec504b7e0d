export { createConnectClient } from './client';
export type {
  ConfigValidation,
  ConnectClient,
  ConnectClientOptions,
  ConnectorConfig,
  ConnectorInfo,
  ConnectorPlugin,
  ConnectorState,
  ConnectorStatus,
  RestartOptions,
  ServerInfo,
  TaskStatus,
} from './client';
export {
  applyConnectorConfig,
  describeStates,
  failuresOf,
  isRunning,
  loadConnectorFile,
  restartAndWait,
  waitUntilRunning,
} from './apply';
export type { ApplyOptions, ApplyResult, ConnectorFile, RestartAndWaitOptions, WaitOptions } from './apply';
export { substitutePlaceholders, redact } from './placeholders';
export type { Substituted } from './placeholders';
export { runConnectCli, DEFAULT_CONNECT_URL, EXIT_ERROR, EXIT_FAILED, EXIT_OK } from './cli';
export type { CliIo } from './cli';
export {
  ConnectConfigError,
  ConnectorConfigInvalidError,
  ConnectorFailedError,
  ConnectorNotFoundError,
  ConnectorNotRunningError,
  ConnectRequestError,
  ConnectUnavailableError,
  ConnectVariableMissingError,
  summarizeTrace,
} from './errors';
export type { ConfigProblem, ConnectorFailure } from './errors';
