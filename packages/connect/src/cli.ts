import { Command, InvalidArgumentError } from 'commander';
import { redactUrl, runCommandLine } from '@evkit/errors';
import { applyConnectorConfig, failuresOf, restartAndWait } from './apply';
import { createConnectClient, type ConnectClient, type ConnectorStatus } from './client';
import { ConnectConfigError, ConnectorFailedError, summarizeTrace, type ConnectorFailure } from './errors';

export const EXIT_OK = 0;
/** A connector or task is FAILED. */
export const EXIT_FAILED = 1;
/** Bad usage, a bad config file, or Connect unreachable or refusing. */
export const EXIT_ERROR = 2;

export const DEFAULT_CONNECT_URL = 'http://127.0.0.1:8083';

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
  let exitCode = EXIT_OK;
  const program = new Command('evkit-connect')
    .description('apply Kafka Connect connector files, show their status, restart them')
    .option('--url <url>', `Kafka Connect REST URL (default: $EVKIT_CONNECT_URL, else ${DEFAULT_CONNECT_URL})`)
    .option('--timeout-ms <ms>', 'how long apply and restart wait for RUNNING (default 60000)', parseTimeout)
    .addHelpText('after', '\nexit: 0 ok, 1 a connector or task FAILED (its trace is printed), 2 usage or infrastructure error');
  const connect = (command: Command) => {
    const flags = command.optsWithGlobals<{ url?: string; timeoutMs?: number }>();
    return { client: createConnectClient({ url: flags.url ?? io.env.EVKIT_CONNECT_URL ?? DEFAULT_CONNECT_URL }), timeoutMs: flags.timeoutMs };
  };
  program
    .command('apply <file>')
    .description('create or update the connector a JSON file describes ({"name", "config"}, with ${VAR} and ${VAR:-default} from the environment); wait until it and its tasks run')
    .action(async (file: string, _flags: object, command: Command) => {
      const { client, timeoutMs } = connect(command);
      const result = await applyConnectorConfig({ client, file, env: io.env, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
      io.out(`${result.name}: ${result.action}`);
      printStatus(io, result.status);
    });
  program
    .command('status [names...]')
    .description("each connector's state and its tasks' (all connectors when none is named)")
    .action(async (names: string[], _flags: object, command: Command) => {
      exitCode = await status(connect(command).client, names, io);
    });
  program
    .command('restart <name>')
    .description('restart the connector and its tasks, then wait until they run')
    .option('--only-failed', 'only the failed instances')
    .option('--connector-only', 'the connector without its tasks')
    .action(async (name: string, flags: { onlyFailed?: boolean; connectorOnly?: boolean }, command: Command) => {
      const { client, timeoutMs } = connect(command);
      const result = await restartAndWait({
        client,
        name,
        includeTasks: !flags.connectorOnly,
        onlyFailed: flags.onlyFailed ?? false,
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
      });
      printStatus(io, result);
    });
  const code = await runCommandLine(program, argv, {
    out: (line) => io.out(line),
    err: (line) => io.err(line),
    usageError: (message, cause) => new ConnectConfigError(message, { cause }),
    exitCodeFor: (error) => {
      if (!(error instanceof ConnectorFailedError)) return EXIT_ERROR;
      printStatus(io, error.status);
      return EXIT_FAILED;
    },
  });
  return code === EXIT_OK ? exitCode : code;
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

function parseTimeout(text: string): number {
  const value = Number(text);
  // Commander reports this as an invalid argument, through the usage error.
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) throw new InvalidArgumentError(`must be an integer >= 0, got ${JSON.stringify(text)}`);
  return value;
}
