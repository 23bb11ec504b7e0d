import { boundedErrorText, EvkitError, isEvkitError, TERMINAL_TEXT_LIMIT } from '@evkit/errors';

/** Exit codes CI can rely on. */
export const EXIT = { ok: 0, finding: 1, error: 2 } as const;

/** A finding (an incompatible schema, a failed connector): exit 1 with this message. */
export class CliFindingError extends EvkitError {
  readonly code = 'EVKIT_CLI_FINDING';
}

/** Bad flags or arguments: exit 2 with this message. */
export class CliUsageError extends EvkitError {
  readonly code = 'EVKIT_CLI_USAGE';
}

/**
 * Something the command needs besides its arguments failed: git, or Kafka for `evkit lag`. Exit 2;
 * `cause` holds the underlying error. (Registry failures keep the codec's own error classes.)
 */
export class CliDependencyError extends EvkitError {
  readonly code = 'EVKIT_CLI_DEPENDENCY_FAILED';
}

export function exitCodeFor(error: unknown): number {
  return error instanceof CliFindingError ? EXIT.finding : EXIT.error;
}

/** One line for a human: the code and message, never a stack, credentials removed, bounded. */
export function describeError(error: unknown): string {
  const text = boundedErrorText(error, TERMINAL_TEXT_LIMIT);
  return isEvkitError(error) ? `${error.code}: ${text}` : text;
}
