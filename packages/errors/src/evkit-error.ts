export interface EvkitErrorOptions {
  /** The underlying failure, kept for diagnosis. */
  cause?: unknown;
  /** Whether trying the same operation again may succeed. Defaults to false. */
  retriable?: boolean;
}

/**
 * Base class of every error evkit throws. `code` is stable across releases and listed in
 * docs/error-codes.md; callers branch on `code`, never on the message text.
 */
export abstract class EvkitError extends Error {
  abstract readonly code: string;
  readonly retriable: boolean;

  constructor(message: string, options: EvkitErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retriable = options.retriable ?? false;
  }

  toJSON(): { name: string; code: string; message: string; retriable: boolean } {
    return { name: this.name, code: this.code, message: this.message, retriable: this.retriable };
  }
}

export function isEvkitError(value: unknown): value is EvkitError {
  return value instanceof EvkitError;
}
