import { Command } from 'commander';
import { runCommandLine } from './command-line';
import { EvkitError } from './evkit-error';

class ToolUsageError extends EvkitError {
  readonly code = 'EVKIT_TEST_USAGE';
}
class ToolFindingError extends EvkitError {
  readonly code = 'EVKIT_TEST_FINDING';
}

function tool() {
  const calls: unknown[] = [];
  const program = new Command('tool').option('--url <url>');
  program
    .command('status [names...]')
    .option('--only-failed')
    .action((names: string[], flags: object, command: Command) => {
      calls.push({ names, ...command.optsWithGlobals() });
    });
  program.command('check').action(() => {
    throw new ToolFindingError('2 schemas incompatible; registry password=hunter2');
  });
  const out: string[] = [];
  const err: string[] = [];
  const run = (argv: string[]) =>
    runCommandLine(program, argv, {
      out: (line) => out.push(line),
      err: (line) => err.push(line),
      usageError: (message, cause) => new ToolUsageError(message, { cause }),
      exitCodeFor: (error) => (error instanceof ToolFindingError ? 1 : 2),
      errorPrefix: 'tool: ',
    });
  return { run, calls, out, err };
}

describe('runCommandLine', () => {
  it('runs the command with flags before or after it, in both value forms', async () => {
    const t = tool();
    expect(await t.run(['status', 'a', '--url', 'http://x', '--only-failed'])).toBe(0);
    expect(await t.run(['--url=http://y', 'status'])).toBe(0);
    expect(t.calls).toEqual([
      { names: ['a'], url: 'http://x', onlyFailed: true },
      { names: [], url: 'http://y' },
    ]);
  });

  it.each([
    [['status', '--bogus'], "tool: EVKIT_TEST_USAGE: unknown option '--bogus'"],
    [['explode'], "tool: EVKIT_TEST_USAGE: unknown command 'explode'"],
    [['status', '--url'], "tool: EVKIT_TEST_USAGE: option '--url <url>' argument missing"],
  ])('refuses %j with the tool\'s typed usage error, exit 2', async (argv, line) => {
    const t = tool();
    expect(await t.run(argv)).toBe(2);
    expect(t.err).toEqual([line]);
    expect(t.calls).toEqual([]);
  });

  it('help asked for exits 0 on stdout; help because no command was given exits 2 on stderr', async () => {
    const asked = tool();
    expect(await asked.run(['--help'])).toBe(0);
    expect(asked.out.join('\n')).toMatch(/^Usage: tool \[options\] \[command\]/);
    const missing = tool();
    expect(await missing.run([])).toBe(2);
    expect(missing.err.join('\n')).toMatch(/^Usage: tool/);
  });

  it("prints a command's error with its code, secrets removed, and exits with the tool's code for it", async () => {
    const t = tool();
    expect(await t.run(['check'])).toBe(1);
    expect(t.err).toEqual(['tool: EVKIT_TEST_FINDING: 2 schemas incompatible; registry password=***']);
  });
});
