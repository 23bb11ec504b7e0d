import { parseCommandLine } from './command-line';
import { EvkitError } from './evkit-error';

class ToolUsageError extends EvkitError {
  readonly code = 'EVKIT_TEST_USAGE';
}
const usage = (message: string) => new ToolUsageError(message);
const options = { url: { type: 'string' }, 'only-failed': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;

describe('parseCommandLine', () => {
  it('reads flags before and after the command, in both value forms, and stops at --', () => {
    expect(parseCommandLine(['status', '--url', 'http://a', 'x'], options, usage)).toEqual({ values: { url: 'http://a' }, positionals: ['status', 'x'] });
    expect(parseCommandLine(['--url=http://b', '--only-failed', 'restart', 'c'], options, usage)).toEqual({
      values: { url: 'http://b', 'only-failed': true },
      positionals: ['restart', 'c'],
    });
    expect(parseCommandLine(['-h'], options, usage).values.help).toBe(true);
    expect(parseCommandLine(['apply', '--', '--not-a-flag'], options, usage).positionals).toEqual(['apply', '--not-a-flag']);
  });

  it.each([
    [['status', '--bogus'], /^unknown option '--bogus'$/],
    [['-x'], /^unknown option '-x'$/],
    [['status', '--url'], /^option '--url <value>' argument missing$/],
    [['--only-failed=yes'], /^option '--only-failed' does not take an argument$/],
  ])('refuses %j with the tool\'s typed usage error', (args, message) => {
    let thrown: unknown;
    try {
      parseCommandLine(args, options, usage);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ToolUsageError);
    expect(thrown).toMatchObject({ code: 'EVKIT_TEST_USAGE' });
    expect((thrown as Error).message).toMatch(message);
  });

  it('lets errors that are not about the arguments through unchanged', () => {
    const bad = { url: { type: 'number' } } as unknown as typeof options;
    let thrown: unknown;
    try {
      parseCommandLine([], bad, usage);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).not.toBeInstanceOf(ToolUsageError);
    expect((thrown as Error).message).toMatch(/options\.url\.type/);
  });
});
