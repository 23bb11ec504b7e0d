import { runStackCli } from './cli';

// Only what needs no running stack: the command line itself. `up`, `status` and `smoke` against
// real services are in integration/lifecycle.test.ts and the CI run.
describe('evkit-stack command line', () => {
  async function run(argv: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runStackCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out, err };
  }

  it.each([
    [['up', '--brokers'], "EVKIT_STACK_CONFIG_INVALID: option '--brokers <count>' argument missing"],
    [['up', '--brokers', 'three'], 'EVKIT_STACK_CONFIG_INVALID: option \'--brokers <count>\' argument \'three\' is invalid. must be one of 1, 3, 5, got "three"'],
    [['--brokers=2', 'status'], 'EVKIT_STACK_CONFIG_INVALID: option \'--brokers <count>\' argument \'2\' is invalid. must be one of 1, 3, 5, got "2"'],
    [['up', 'down'], "EVKIT_STACK_CONFIG_INVALID: too many arguments for 'up'. Expected 0 arguments but got 1."],
    [['up', '--verbose'], "EVKIT_STACK_CONFIG_INVALID: unknown option '--verbose'"],
    [['start'], "EVKIT_STACK_CONFIG_INVALID: unknown command 'start'\n(Did you mean status?)"],
  ])('refuses %j with a typed error naming the reason, exit 2, before touching anything', async (argv, line) => {
    const { code, out, err } = await run(argv);
    expect(code).toBe(2);
    expect(err).toEqual([line]);
    expect(out).toEqual([]);
  });

  it('shows its help, with the ports it reads, on --help (exit 0) and when no command is given (exit 2)', async () => {
    const asked = await run(['--help']);
    expect(asked.code).toBe(0);
    expect(asked.out.join('\n')).toMatch(/Usage: evkit-stack \[options\] \[command\][\s\S]*smoke[\s\S]*EVKIT_KAFKA_PORT/);
    const missing = await run([]);
    expect(missing.code).toBe(2);
    expect(missing.err.join('\n')).toMatch(/^Usage: evkit-stack/);
  });
});
