// The one command-line parser of evkit's tools (evkit-connect, evkit-stack; evkit's own commands
// are commander's): Node's util.parseArgs, with its untyped TypeErrors turned into the tool's own
// typed usage error. Here because it is the one package every tool depends on, and it needs nothing
// but node:util.
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** The flags a tool takes: parseArgs' option table. */
export type CommandLineOptions = NonNullable<ParseArgsConfig['options']>;

export interface CommandLine<O extends CommandLineOptions> {
  values: ReturnType<typeof parseArgs<{ options: O; allowPositionals: true; strict: true }>>['values'];
  /** The command and its arguments, in order. */
  positionals: string[];
}

/**
 * Parses `args` strictly: an unknown flag, a missing or unexpected value is `usageError(message)`,
 * the tool's typed error with its stable code. Flags may come before or after the command;
 * `--name=value` and `--name value` both work; `--` ends the flags.
 */
export function parseCommandLine<O extends CommandLineOptions>(
  args: readonly string[],
  options: O,
  usageError: (message: string) => Error,
): CommandLine<O> {
  try {
    const { values, positionals } = parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
    return { values, positionals };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) throw usageError(usageMessage(error as Error));
    throw error;
  }
}

/** parseArgs' message without its advice about `--`, which is rarely what was meant. */
function usageMessage(error: Error): string {
  const first = error.message.split('. To specify a positional argument')[0]!;
  return first.charAt(0).toLowerCase() + first.slice(1);
}
