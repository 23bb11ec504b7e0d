import { Command } from 'commander';
import type { CommandLineIo } from '@evkit/errors';

/** Another evkit tool's command line, as `evkit-connect` and `evkit-stack` ship it. */
export type ToolCommandLine = (argv: readonly string[], io: CommandLineIo & { env: NodeJS.ProcessEnv }) => Promise<number>;

/**
 * `evkit <name> ...`: the arguments go, as they are, to the tool that owns the commands, so each
 * command is declared, parsed and documented once. The tool prints its own output and errors;
 * its exit code becomes evkit's through `exitWith`.
 */
export function delegatedCommand(
  name: string,
  description: string,
  runTool: ToolCommandLine,
  exitWith: (code: number) => void,
  environment: () => NodeJS.ProcessEnv = () => process.env,
): Command {
  return new Command(name)
    .description(description)
    .helpOption(false) // `evkit <name> --help` is the tool's own help
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[args...]')
    .action(async (args: string[]) => {
      exitWith(
        await runTool(args, {
          env: environment(),
          out: (line) => process.stdout.write(`${line}\n`),
          err: (line) => process.stderr.write(`${line}\n`),
        }),
      );
    });
}
