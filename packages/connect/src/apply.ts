import * as fs from 'node:fs';
import { isEvkitError } from '@evkit/errors';
import type { ConnectClient, ConnectorConfig, ConnectorStatus, RestartOptions } from './client';
import {
  ConnectConfigError,
  ConnectorConfigInvalidError,
  ConnectorFailedError,
  ConnectorNotFoundError,
  ConnectorNotRunningError,
  ConnectVariableMissingError,
  type ConnectorFailure,
} from './errors';
import { isSecretKey, redact, substitutePlaceholders } from './placeholders';

export interface ConnectorFile {
  name: string;
  config: ConnectorConfig;
  /** Values that must never be shown: from secret-named variables or secret-named keys. */
  secrets: string[];
}

/**
 * Reads a connector file, `{ "name": ..., "config": { ... } }` as Connect's POST /connectors
 * takes it, and substitutes its `${VAR}` / `${VAR:-default}` placeholders from `env`. Numbers and
 * booleans become strings, as Connect stores them.
 */
export function loadConnectorFile(file: string, env: Readonly<Record<string, string | undefined>>): ConnectorFile {
  let raw: string;
  try {
    raw = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConnectConfigError(`cannot read connector file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new ConnectConfigError(`${file} is not JSON: ${(error as Error).message}`, { cause: error });
  }
  const { name, config } = (parsed ?? {}) as { name?: unknown; config?: unknown };
  if (typeof name !== 'string' || config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new ConnectConfigError(`${file} must hold {"name": "...", "config": {...}}`);
  }
  const missing: string[] = [];
  const secrets: string[] = [];
  const resolve = (text: string): string => {
    const substituted = substitutePlaceholders(text, env);
    for (const variable of substituted.missing) if (!missing.includes(variable)) missing.push(variable);
    secrets.push(...substituted.secrets);
    return substituted.text;
  };
  const resolvedName = resolve(name);
  const resolved: ConnectorConfig = {};
  for (const [key, value] of Object.entries(config as Record<string, unknown>)) {
    if (!['string', 'number', 'boolean'].includes(typeof value)) {
      throw new ConnectConfigError(`${file}: config.${key} must be a string, number or boolean`);
    }
    resolved[key] = resolve(String(value));
    if (isSecretKey(key) && resolved[key].length > 0) secrets.push(resolved[key]);
  }
  if (missing.length > 0) throw new ConnectVariableMissingError(missing, file);
  if (resolvedName.length === 0) throw new ConnectConfigError(`${file}: name is empty`);
  if (typeof resolved['connector.class'] !== 'string') throw new ConnectConfigError(`${file}: config has no connector.class`);
  return { name: resolvedName, config: resolved, secrets };
}

export interface WaitOptions {
  client: ConnectClient;
  name: string;
  /** How long to wait for RUNNING. Default 60 s. */
  timeoutMs?: number;
  /** Between status polls. Default 500 ms. */
  pollIntervalMs?: number;
  /**
   * How long the connector and its tasks must stay RUNNING before it counts: right after a config
   * change Connect may still report the tasks of the old config. Default 1 s.
   */
  settleMs?: number;
  /** Values masked in errors (ConnectorFile.secrets). */
  secrets?: readonly string[];
}

export interface ApplyOptions extends Omit<WaitOptions, 'name'> {
  /** The connector file (see loadConnectorFile). */
  file: string;
  /** Where placeholders take their values. Default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface ApplyResult {
  name: string;
  /** `unchanged`: the running config already was this one, so nothing was written or restarted. */
  action: 'created' | 'updated' | 'unchanged';
  status: ConnectorStatus;
}

/**
 * Creates or updates the connector a file describes and waits until it and all its tasks are
 * RUNNING. Idempotent: a config equal to the one in place is not written again (writing it would
 * restart the connector). The plugin validates the config first, so every refused key is listed
 * at once. Throws ConnectorFailedError with the traces when the connector or a task fails.
 */
export async function applyConnectorConfig(options: ApplyOptions): Promise<ApplyResult> {
  if (options === null || typeof options !== 'object') throw new ConnectConfigError('options are required');
  const { client, file } = options;
  if (typeof file !== 'string' || file.length === 0) throw new ConnectConfigError('file must be a path to a connector file');
  const { name, config, secrets } = loadConnectorFile(file, options.env ?? process.env);
  return withSecretsMasked(secrets, async () => {
    const validation = await client.validateConfig(config['connector.class']!, { ...config, name });
    if (validation.error_count > 0) {
      const problems = validation.configs
        .filter((c) => c.value.errors.length > 0)
        .map((c) => ({ key: c.value.name, errors: c.value.errors.map((text) => redact(text, secrets)) }));
      throw new ConnectorConfigInvalidError(name, problems);
    }
    const current = await currentConfig(client, name);
    let action: ApplyResult['action'] = 'unchanged';
    if (current === undefined || !sameConfig(current, { ...config, name })) {
      action = (await client.putConnectorConfig(name, config)).created ? 'created' : 'updated';
    }
    const status = await waitUntilRunning({ ...options, name, secrets });
    return { name, action, status };
  });
}

const PAUSED_GRACE_MS = 3000;

/**
 * Polls the connector's status until it and every task are RUNNING (for `settleMs`). Throws
 * ConnectorFailedError as soon as the connector or a task is FAILED, ConnectorNotRunningError
 * when it stays PAUSED or STOPPED for 3 s (it would not start by waiting) or the time is up.
 */
export async function waitUntilRunning(options: WaitOptions): Promise<ConnectorStatus> {
  const { client, name, timeoutMs = 60_000, pollIntervalMs = 500, settleMs = 1000, secrets = [] } = options;
  for (const [option, value] of Object.entries({ timeoutMs, pollIntervalMs, settleMs })) {
    // A timer longer than 2^31-1 ms fires at once in Node.
    if (!Number.isInteger(value) || value < 0 || value > 2 ** 31 - 1) throw new ConnectConfigError(`${option} must be an integer from 0 to 2147483647, got ${String(value)}`);
  }
  return withSecretsMasked(secrets, async () => {
    const deadline = Date.now() + timeoutMs;
    let status: ConnectorStatus | undefined;
    let runningSince: number | undefined;
    let pausedSince: number | undefined;
    for (;;) {
      try {
        status = masked(await client.connectorStatus(name), secrets);
      } catch (error) {
        // Just created, or the worker is rebalancing: the next poll tells.
        if (!(error instanceof ConnectorNotFoundError) && !(isEvkitError(error) && error.retriable)) throw error;
      }
      if (status) {
        const failures = failuresOf(status);
        if (failures.length > 0) throw new ConnectorFailedError(name, failures, status);
        const state = status.connector.state;
        if (state === 'PAUSED' || state === 'STOPPED') {
          // Right after a resume Connect still says PAUSED for a moment; for longer, it stays so.
          pausedSince ??= Date.now();
          if (Date.now() - pausedSince >= PAUSED_GRACE_MS) {
            throw new ConnectorNotRunningError(`connector ${name} is ${state}; resume it to run`, status);
          }
        } else {
          pausedSince = undefined;
        }
        if (isRunning(status)) {
          runningSince ??= Date.now();
          if (Date.now() - runningSince >= settleMs) return status;
        } else {
          runningSince = undefined;
        }
      }
      if (Date.now() >= deadline) {
        const states = status ? describeStates(status) : 'no status yet';
        throw new ConnectorNotRunningError(`connector ${name} not RUNNING after ${timeoutMs} ms (${states})`, status);
      }
      await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
    }
  });
}

export interface RestartAndWaitOptions extends WaitOptions, RestartOptions {}

/** Restarts the connector (by default with its tasks) and waits as waitUntilRunning does. */
export async function restartAndWait(options: RestartAndWaitOptions): Promise<ConnectorStatus> {
  const { client, name, includeTasks = true, onlyFailed = false } = options;
  await client.restartConnector(name, { includeTasks, onlyFailed });
  return waitUntilRunning(options);
}

/** The FAILED connector and tasks of a status, each with its trace. */
export function failuresOf(status: ConnectorStatus): ConnectorFailure[] {
  const failures: ConnectorFailure[] = [];
  if (status.connector.state === 'FAILED') failures.push({ what: 'connector', trace: status.connector.trace ?? '(no trace)' });
  for (const task of status.tasks) {
    if (task.state === 'FAILED') failures.push({ what: `task ${task.id}`, trace: task.trace ?? '(no trace)' });
  }
  return failures;
}

/** The connector and all of its tasks (at least one) are RUNNING. */
export function isRunning(status: ConnectorStatus): boolean {
  return status.connector.state === 'RUNNING' && status.tasks.length > 0 && status.tasks.every((task) => task.state === 'RUNNING');
}

/** `connector RUNNING, task 0 FAILED`. */
export function describeStates(status: ConnectorStatus): string {
  return [`connector ${status.connector.state}`, ...status.tasks.map((task) => `task ${task.id} ${task.state}`)].join(', ');
}

async function currentConfig(client: ConnectClient, name: string): Promise<ConnectorConfig | undefined> {
  try {
    return await client.getConnectorConfig(name);
  } catch (error) {
    if (error instanceof ConnectorNotFoundError) return undefined;
    throw error;
  }
}

function sameConfig(a: ConnectorConfig, b: ConnectorConfig): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

/**
 * Runs `work`, masking secrets in the message and stack of a client error it throws: Connect
 * echoes config values in its error bodies (a JDBC URL, a refused password). evkit's own errors
 * are built from masked parts already.
 */
async function withSecretsMasked<T>(secrets: readonly string[], work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (secrets.length > 0 && error instanceof Error) {
      error.message = redact(error.message, secrets);
      if (error.stack !== undefined) error.stack = redact(error.stack, secrets);
    }
    throw error;
  }
}

/** The status with the secrets masked in its traces. */
function masked(status: ConnectorStatus, secrets: readonly string[]): ConnectorStatus {
  if (secrets.length === 0) return status;
  const mask = <I extends { trace?: string }>(instance: I): I =>
    instance.trace === undefined ? instance : { ...instance, trace: redact(instance.trace, secrets) };
  return { ...status, connector: mask(status.connector), tasks: status.tasks.map(mask) };
}
