import { StackConfigError } from './errors';
import { parseStackArgs } from './args';

describe('parseStackArgs', () => {
  it('reads the command and an optional broker count, before or after it', () => {
    expect(parseStackArgs(['up'])).toEqual({ command: 'up', brokers: undefined });
    expect(parseStackArgs(['up', '--brokers', '3'])).toEqual({ command: 'up', brokers: 3 });
    expect(parseStackArgs(['--brokers=3', 'status'])).toEqual({ command: 'status', brokers: 3 });
    expect(parseStackArgs([])).toEqual({ command: undefined, brokers: undefined });
  });

  it.each([
    [['up', '--brokers'], /^option '--brokers <value>' argument missing$/],
    [['up', '--brokers', 'three'], /^--brokers must be a number of brokers, got "three"$/],
    [['up', 'down'], /^one command at a time, got "up" "down"$/],
    [['up', '--verbose'], /^unknown option '--verbose'$/],
  ])('refuses %j with a typed error naming the reason', (args, message) => {
    expect(() => parseStackArgs(args)).toThrow(StackConfigError);
    expect(() => parseStackArgs(args)).toThrow(message);
  });
});
