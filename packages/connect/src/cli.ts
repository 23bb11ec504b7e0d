import { boundedErrorText, isEvkitError, parseCommandLine, redactUrl, TERMINAL_TEXT_LIMIT } from '@evkit/errors';
import { applyConnectorConfig, failuresOf, restartAndWait } from './apply';
import { createConnectClient, type ConnectClient, type ConnectorStatus } from './client';
import { ConnectConfigError, ConnectorFailedError, summarizeTrace, type ConnectorFailure } from './errors';

export const EXIT_OK = 0;
/** A connector or task is FAILED. */
export const EXIT_FAILED = 1;
/** Bad usage, a bad config file, or Connect unreachable or refusing. */
export const EXIT_ERROR = 2;

export const DEFAULT_CONNECT_URL = 'http://127.0.0.1:8083';

export const CONNECT_USAGE = `usage: evkit-connect <command> [options]

  apply <file>      create or update the connector a JSON file describes ({"name", "config"}, with
                    \${VAR} and \${VAR:-default} from the environment); wait until it and its tasks run
  status [name...]  each connector's state and its tasks' (all connectors when none is named)
  restart <name>    restart the connector and its tasks, then wait until they run

options:
  --url URL           Kafka Connect REST URL (default: $EVKIT_CONNECT_URL, else ${DEFAULT_CONNECT_URL})
  --timeout-ms N      how long apply and restart wait for RUNNING (default 60000)
  --only-failed       restart: only the failed instances
  --connector-only    restart: the connector without its tasks

exit: 0 ok, 1 a connector or task FAILED (its trace is printed), 2 usage or infrastructure error`;

const OPTIONS = {
  url: { type: 'string' },
  'timeout-ms': { type: 'string' },
  'only-failed': { type: 'boolean' },
  'connector-only': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface CliIo {
  env: Readonly<Record<string, string | undefined>>;
  out(line: string): void;
  err(line: string): void;
}

/**
 * The `evkit-connect` command line (and the body of the `evkit connect` commands): runs one
 * command and resolves with its exit code; it never throws.
 */
export async function runConnectCli(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed = false;
  try {
    const { values, positionals } = parseCommandLine(argv, OPTIONS, (message) => new ConnectConfigError(message));
    parsed = true;
    const [command, ...args] = positionals;
    if (values.help || command === undefined) {
      io.err(CONNECT_USAGE);
      return values.help ? EXIT_OK : EXIT_ERROR;
    }
    const client = createConnectClient({ url: values.url ?? io.env.EVKIT_CONNECT_URL ?? DEFAULT_CONNECT_URL });
    const timeoutMs = values['timeout-ms'] === undefined ? undefined : parseTimeout(values['timeout-ms']);
    switch (command) {
      case 'apply': {
        const file = single(args, 'apply <file>');
        const result = await applyConnectorConfig({ client, file, env: io.env, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
        io.out(`${result.name}: ${result.action}`);
        printStatus(io, result.status);
        return EXIT_OK;
      }
      case 'status':
        return await status(client, args, io);
      case 'restart': {
        const name = single(args, 'restart <name>');
        const result = await restartAndWait({
          client,
          name,
          includeTasks: !values['connector-only'],
          onlyFailed: values['only-failed'] ?? false,
          ...(timeoutMs === undefined ? {} : { timeoutMs }),
        });
        printStatus(io, result);
        return EXIT_OK;
      }
      default:
        throw new ConnectConfigError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (error) {
    if (error instanceof ConnectorFailedError) {
      printStatus(io, error.status);
      return EXIT_FAILED;
    }
    // Connect echoes config values in its errors: what reaches the terminal is redacted.
    if (isEvkitError(error)) io.err(`${error.code}: ${boundedErrorText(error, TERMINAL_TEXT_LIMIT)}`);
    else io.err(boundedErrorText(error, TERMINAL_TEXT_LIMIT));
    if (!parsed) io.err(CONNECT_USAGE); // a flag error: what the flags are
    return EXIT_ERROR;
  }
}

async function status(client: ConnectClient, names: string[], io: CliIo): Promise<number> {
  const targets = names.length > 0 ? names : await client.listConnectors();
  if (targets.length === 0) io.out(`no connectors on ${redactUrl(client.url)}`);
  let failed = false;
  for (const name of targets) {
    const current = await client.connectorStatus(name);
    failed ||= failuresOf(current).length > 0;
    printStatus(io, current);
  }
  return failed ? EXIT_FAILED : EXIT_OK;
}

/** One line per instance; a FAILED one with its causes, then its trace indented. */
function printStatus(io: CliIo, current: ConnectorStatus): void {
  io.out(`${current.name} (${current.type}): connector ${current.connector.state} on ${current.connector.worker_id}`);
  for (const task of current.tasks) io.out(`  task ${task.id}: ${task.state} on ${task.worker_id}`);
  for (const failure of failuresOf(current)) printFailure(io, current.name, failure);
}

function printFailure(io: CliIo, name: string, failure: ConnectorFailure): void {
  io.err(`${name} ${failure.what} FAILED: ${summarizeTrace(failure.trace)}`);
  for (const line of failure.trace.trimEnd().split('\n')) io.err(`    ${line}`);
}

function single(args: string[], usage: string): string {
  if (args.length !== 1) throw new ConnectConfigError(`usage: evkit-connect ${usage}`);
  return args[0]!;
}

function parseTimeout(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new ConnectConfigError(`--timeout-ms must be an integer >= 0, got ${JSON.stringify(text)}`);
  return value;
}
