export { EvkitError, isEvkitError } from './evkit-error';
export type { EvkitErrorOptions } from './evkit-error';
export { boundedErrorText, boundedText, errorMessageOf, ERROR_TEXT_LIMIT, redactSecrets, redactUrl, TERMINAL_TEXT_LIMIT, terminalErrorText, truncate } from './redact';
export { parseCommandLine } from './command-line';
export type { CommandLine, CommandLineOptions } from './command-line';
