// The one way evkit's tools (evkit, evkit-connect, evkit-stack) run their command lines. Each
// declares its commands with commander; this runs them and turns commander's own failures (an
// unknown command or flag, a missing argument) into the tool's typed usage error, printed with its
// stable code like every other evkit error. Commander is described structurally here, so the
// package every other one depends on stays free of dependencies.
import { terminalErrorText } from './redact';

/** The part of a commander `Command` this runner configures, for it and every subcommand. */
export interface CommandTree {
  readonly commands: readonly CommandTree[];
  exitOverride(): unknown;
  configureOutput(output: { writeOut(text: string): void; writeErr(text: string): void; outputError(text: string, write: (text: string) => void): void }): unknown;
}

export interface CommandProgram extends CommandTree {
  parseAsync(argv: string[], options: { from: 'user' }): Promise<unknown>;
}

export interface CommandLineIo {
  out(line: string): void;
  err(line: string): void;
}

export interface RunCommandLineOptions extends CommandLineIo {
  /** The tool's typed error for bad usage (exit 2); the message is commander's reason. */
  usageError(message: string, cause: unknown): Error;
  /** The exit code for an error a command threw; usage errors always exit 2. */
  exitCodeFor(error: unknown): number;
  /** Written before each error line, e.g. `evkit: `. */
  errorPrefix?: string;
}

export const EXIT_USAGE = 2;

/**
 * Runs `program` on `argv` and resolves with the exit code; never throws. Help asked for exits 0;
 * help shown because no command was given, and any usage error, exit 2. An error a command throws
 * is printed (code and message, secrets removed, bounded) and exits `exitCodeFor(error)`.
 */
export async function runCommandLine(program: CommandProgram, argv: readonly string[], options: RunCommandLineOptions): Promise<number> {
  routeOutput(program, options);
  const report = (error: unknown) => options.err(`${options.errorPrefix ?? ''}${terminalErrorText(error)}`);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    const commander = commanderFailure(error);
    if (commander === undefined) {
      report(error);
      return options.exitCodeFor(error);
    }
    if (commander.exitCode === 0) return 0; // --help, --version
    if (commander.code !== 'commander.help') report(options.usageError(commander.message.replace(/^error: /, ''), error));
    return EXIT_USAGE;
  }
}

/** Every command throws instead of exiting; its help and messages go to `io`. */
function routeOutput(command: CommandTree, io: CommandLineIo): void {
  command.exitOverride();
  command.configureOutput({
    writeOut: (text) => io.out(text.replace(/\n$/, '')),
    writeErr: (text) => io.err(text.replace(/\n$/, '')),
    outputError: () => {}, // printed once, typed, by runCommandLine
  });
  for (const sub of command.commands) routeOutput(sub, io);
}

function commanderFailure(error: unknown): { code: string; exitCode: number; message: string } | undefined {
  const { code, exitCode } = (error ?? {}) as { code?: unknown; exitCode?: unknown };
  if (!(error instanceof Error) || typeof code !== 'string' || !code.startsWith('commander.') || typeof exitCode !== 'number') return undefined;
  return { code, exitCode, message: error.message };
}
