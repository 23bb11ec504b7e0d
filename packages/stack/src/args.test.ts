import { parseStackArgs } from './args';

describe('parseStackArgs', () => {
  it('reads the command and an optional broker count, before or after it', () => {
    expect(parseStackArgs(['up'])).toEqual({ command: 'up', brokers: undefined });
    expect(parseStackArgs(['up', '--brokers', '3'])).toEqual({ command: 'up', brokers: 3 });
    expect(parseStackArgs(['--brokers=3', 'status'])).toEqual({ command: 'status', brokers: 3 });
    expect(parseStackArgs([])).toEqual({ command: undefined, brokers: undefined });
  });

  it.each([[['up', '--brokers']], [['up', '--brokers', 'three']], [['up', 'down']], [['up', '--verbose']]])('refuses %j', (args) => {
    expect(parseStackArgs(args)).toBeUndefined();
  });
});
