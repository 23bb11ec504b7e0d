export { createConsole } from './console';
export type { EvkitConsole } from './console';
export { isLoopback } from './options';
export type { ConsoleGroupLag, ConsoleOptions, ConsoleSchemaChange } from './options';
export { CSRF_HEADER } from './security';
export { ConsoleConfigError, ConsoleListenError } from './errors';
