import { ConsoleConfigError } from './errors';
import { isLoopback, resolveOptions, type ConsoleOptions } from './options';

const base: ConsoleOptions = {
  kafka: { brokers: ['127.0.0.1:19092'] },
  registry: { url: 'http://127.0.0.1:18081' },
  lag: () => Promise.resolve({ groupId: 'g', state: 'Stable', partitions: [] }),
  diffSchemas: () => [],
};

describe('resolveOptions', () => {
  it('binds to loopback on port 7070 by default', () => {
    expect(resolveOptions(base)).toMatchObject({ host: '127.0.0.1', port: 7070, loopback: true });
  });

  it('refuses a non-loopback host without a token, and a short token, without echoing it', () => {
    expect(() => resolveOptions({ ...base, host: '0.0.0.0' })).toThrow(ConsoleConfigError);
    expect(() => resolveOptions({ ...base, host: '0.0.0.0' })).toThrow(/not loopback.*give a token/);
    expect(() => resolveOptions({ ...base, host: '0.0.0.0', token: 'short-secret' })).toThrow(/at least 16 characters/);
    expect(() => resolveOptions({ ...base, host: '0.0.0.0', token: 'short-secret' })).not.toThrow(/short-secret/);
    expect(resolveOptions({ ...base, host: '0.0.0.0', token: 'a-long-enough-token-1234' })).toMatchObject({ loopback: false });
  });

  it('refuses bad ports, hosts, groups and missing parts', () => {
    expect(() => resolveOptions({ ...base, port: 70000 })).toThrow(/port must be/);
    expect(() => resolveOptions({ ...base, host: 'a b' })).toThrow(/host must be/);
    expect(() => resolveOptions({ ...base, groups: [''] })).toThrow(/groups must be/);
    expect(() => resolveOptions({ ...base, lagSampleMs: 10 })).toThrow(/lagSampleMs must be/);
    expect(() => resolveOptions({ ...base, lag: undefined as never })).toThrow(/lag must be/);
    expect(() => resolveOptions(undefined as never)).toThrow(/options are required/);
  });

  it('knows loopback addresses', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost'].map(isLoopback)).toEqual([true, true, true, true]);
    expect(['0.0.0.0', '10.0.0.1', '::', 'example.com'].map(isLoopback)).toEqual([false, false, false, false]);
  });
});
