import { Command } from 'commander';
import { runConnectCli } from '@evkit/connect';
import { runCommandLine } from '@evkit/errors';
import { createLocalStack, runStackCli } from '@evkit/stack';
import { codegenCommand } from './commands/codegen';
import { consoleCommand } from './commands/console';
import { delegatedCommand } from './commands/delegated';
import { dlqCommand } from './commands/dlq';
import { lagCommand } from './commands/lag';
import { sagaCommand } from './commands/saga';
import { schemasCommand } from './commands/schemas';
import { createOutput } from './context';
import { CliUsageError, EXIT, exitCodeFor } from './exit-codes';

/**
 * The `evkit` program; `run` parses, executes, and returns the exit code instead of exiting.
 * `exitWith` receives the exit code of a command delegated to evkit-connect or evkit-stack.
 */
export function createProgram(exitWith: (code: number) => void = () => {}): Command {
  const program = new Command('evkit').description('evkit: Kafka-native events for TypeScript services');
  program.addCommand(schemasCommand(createOutput));
  program.addCommand(codegenCommand(createOutput));
  program.addCommand(lagCommand(createOutput));
  program.addCommand(dlqCommand(createOutput));
  program.addCommand(consoleCommand(createOutput));
  program.addCommand(sagaCommand(createOutput));
  program.addCommand(
    delegatedCommand(
      'connect',
      'apply a connector file (idempotent), show status, restart; a failed connector exits 1 with its trace',
      runConnectCli,
      exitWith,
      // Like the brokers and the registry, Connect defaults to the local stack's; EVKIT_CONNECT_URL still wins (evkit-connect alone keeps 8083).
      () => ({ ...process.env, EVKIT_CONNECT_URL: createLocalStack().endpoints.connectUrl }),
    ),
  );
  program.addCommand(delegatedCommand('stack', 'the local stack without Docker: Kafka, Connect + Debezium, Apicurio, PostgreSQL', runStackCli, exitWith));
  return program;
}

export async function run(argv: readonly string[]): Promise<number> {
  let delegatedExit: number = EXIT.ok;
  const code = await runCommandLine(
    createProgram((exit) => {
      delegatedExit = exit;
    }),
    argv,
    {
      out: (line) => process.stdout.write(`${line}\n`),
      err: (line) => process.stderr.write(`${line}\n`),
      usageError: (message, cause) => new CliUsageError(message, { cause }),
      exitCodeFor,
      errorPrefix: 'evkit: ',
    },
  );
  return code === EXIT.ok ? delegatedExit : code;
}
