import { EvkitError, type EvkitErrorOptions } from '@evkit/errors';
import type { ConnectorStatus } from './client';

/** The client's options, a CLI argument or a connector config file is unusable; the message names it. */
export class ConnectConfigError extends EvkitError {
  readonly code = 'EVKIT_CONNECT_INVALID_OPTIONS';
}

/** A config file names `${VAR}` placeholders that the environment does not set and that have no default. */
export class ConnectVariableMissingError extends EvkitError {
  readonly code = 'EVKIT_CONNECT_VARIABLE_MISSING';
  constructor(
    /** The variables, each once, in the order they appear. */
    readonly variables: readonly string[],
    file: string,
  ) {
    super(`${file}: environment variable${variables.length === 1 ? '' : 's'} ${variables.join(', ')} not set and without a default (\${NAME:-default})`);
  }
}

/** Kafka Connect could not be reached, timed out, or answered 502/503/504. */
export class ConnectUnavailableError extends EvkitError {
  readonly code = 'EVKIT_CONNECT_UNAVAILABLE';
  constructor(message: string, options: Omit<EvkitErrorOptions, 'retriable'> = {}) {
    super(message, { ...options, retriable: true });
  }
}

/**
 * Kafka Connect refused a request. `status` is the HTTP status, `restMessage` the `message` of
 * Connect's error body. 409 (a rebalance or a concurrent config change) and 500 (Connect's own
 * request timeout) are retriable.
 */
export class ConnectRequestError extends EvkitError {
  readonly code = 'EVKIT_CONNECT_REQUEST_FAILED';
  constructor(
    message: string,
    readonly status: number,
    readonly restMessage: string | undefined,
  ) {
    super(message, { retriable: status === 409 || status === 500 });
  }
}

/** No connector of that name exists on the Connect cluster. */
export class ConnectorNotFoundError extends EvkitError {
  readonly code = 'EVKIT_CONNECT_CONNECTOR_NOT_FOUND';
  constructor(readonly connector: string, url: string) {
    super(`no connector ${JSON.stringify(connector)} on ${url}`);
  }
}

export interface ConfigProblem {
  key: string;
  errors: readonly string[];
}

/** The connector plugin's validation refused the config; `problems` lists each key with its errors. */
export class ConnectorConfigInvalidError extends EvkitError {
  readonly code = 'EVKIT_CONNECT_CONFIG_INVALID';
  constructor(
    readonly connector: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    super(`connector ${connector}: config refused by validation: ${problems.map((p) => `${p.key}: ${p.errors.join('; ')}`).join(' | ')}`);
  }
}

export interface ConnectorFailure {
  /** `connector` or `task <id>`. */
  what: string;
  /** The Java stack trace Connect reports (secrets of the applied file masked). */
  trace: string;
}

/** The connector or one of its tasks is FAILED; `failures` carries each trace. */
export class ConnectorFailedError extends EvkitError {
  readonly code = 'EVKIT_CONNECT_CONNECTOR_FAILED';
  constructor(
    readonly connector: string,
    readonly failures: readonly ConnectorFailure[],
    readonly status: ConnectorStatus,
  ) {
    super(`connector ${connector} failed: ${failures.map((f) => `${f.what}: ${summarizeTrace(f.trace)}`).join(' | ')}`);
  }
}

/** The connector was not RUNNING with all its tasks RUNNING in time (or is PAUSED or STOPPED). */
export class ConnectorNotRunningError extends EvkitError {
  readonly code = 'EVKIT_CONNECT_NOT_RUNNING';
  constructor(
    message: string,
    readonly status: ConnectorStatus | undefined,
  ) {
    super(message, { retriable: true });
  }
}

/**
 * The exception line and every `Caused by:` line of a Java stack trace: where a Connect failure
 * says what went wrong (the first line alone is often "Tolerance exceeded in error handler").
 */
export function summarizeTrace(trace: string): string {
  const lines = trace.split('\n');
  const causes = lines.filter((line) => line.startsWith('Caused by: ')).map((line) => line.slice('Caused by: '.length));
  return [lines[0]!.trim(), ...causes].join(' <- ');
}
