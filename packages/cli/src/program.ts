import { Command, CommanderError } from 'commander';
import { codegenCommand } from './commands/codegen';
import { connectCommand } from './commands/connect';
import { dlqCommand } from './commands/dlq';
import { lagCommand } from './commands/lag';
import { schemasCommand } from './commands/schemas';
import { stackCommand } from './commands/stack';
import { createOutput } from './context';
import { CliUsageError, describeError, EXIT, exitCodeFor } from './exit-codes';

/** The `evkit` program; `run` parses, executes, and returns the exit code instead of exiting. */
export function createProgram(): Command {
  const program = new Command('evkit')
    .description('evkit: Kafka-native events for TypeScript services')
    .showHelpAfterError()
    .exitOverride();
  program.addCommand(schemasCommand(createOutput));
  program.addCommand(codegenCommand(createOutput));
  program.addCommand(lagCommand(createOutput));
  program.addCommand(dlqCommand(createOutput));
  program.addCommand(connectCommand());
  program.addCommand(stackCommand(createOutput));
  throwInsteadOfExiting(program);
  return program;
}

/**
 * Every command throws its CommanderError instead of exiting, and leaves the error line to `run`,
 * which prints it with its stable code (EVKIT_CLI_USAGE) like every other evkit error.
 */
function throwInsteadOfExiting(command: Command): void {
  command.exitOverride().configureOutput({ outputError: () => {} });
  for (const sub of command.commands) throwInsteadOfExiting(sub);
}

export async function run(argv: readonly string[]): Promise<number> {
  try {
    await createProgram().parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, with code 0.
      if (error.exitCode === 0) return EXIT.ok;
      // An unknown command or flag, a missing argument: commander's reason, typed.
      const usage = new CliUsageError(error.message.replace(/^error: /, ''), { cause: error });
      process.stderr.write(`evkit: ${describeError(usage)}\n`);
      return EXIT.error;
    }
    process.stderr.write(`evkit: ${describeError(error)}\n`);
    return error instanceof CliUsageError ? EXIT.error : exitCodeFor(error);
  }
}
