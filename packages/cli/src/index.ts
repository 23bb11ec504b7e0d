export { createProgram, run } from './program';
export { CliDependencyError, CliFindingError, CliUsageError, EXIT } from './exit-codes';
