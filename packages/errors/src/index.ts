export { EvkitError, isEvkitError } from './evkit-error';
export type { EvkitErrorOptions } from './evkit-error';
export { boundedErrorText, boundedText, errorMessageOf, ERROR_TEXT_LIMIT, redactSecrets, redactUrl, TERMINAL_TEXT_LIMIT, terminalErrorText, truncate } from './redact';
export { EXIT_USAGE, runCommandLine } from './command-line';
export type { CommandLineIo, CommandProgram, CommandTree, RunCommandLineOptions } from './command-line';
export { isBoolean, isNonEmptyString, isObject, isOneOf, isWholeNumber, optionProblem, validateOptions } from './option-rules';
export type { OptionCheck, OptionRules } from './option-rules';
export { isBatchFailure, markBatchFailure } from './batch-failure';
