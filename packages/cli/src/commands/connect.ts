import { Command } from 'commander';
import { CONNECT_USAGE, runConnectCli } from '@evkit/connect';
import { CliFindingError, CliUsageError, EXIT } from '../exit-codes';

/**
 * `evkit connect apply|status|restart`: the Connect commands of @evkit/connect (also shipped as
 * `evkit-connect`), given their arguments as they are.
 */
export function connectCommand(): Command {
  return new Command('connect')
    .description('apply a connector file (idempotent), show status, restart; a failed connector exits 1 with its trace')
    .usage('apply <file> | status [name] | restart <name> [--url <connect-url>] [--only-failed]')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[args...]')
    .addHelpText('after', `\n${CONNECT_USAGE}`)
    .action(async (args: string[]) => {
      const code = await runConnectCli(args, {
        env: process.env,
        out: (line) => process.stdout.write(`${line}\n`),
        err: (line) => process.stderr.write(`${line}\n`),
      });
      if (code === EXIT.finding) throw new CliFindingError('a connector or task is not running (see above)');
      if (code !== EXIT.ok) throw new CliUsageError('see the message above');
    });
}
