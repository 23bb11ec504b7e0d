import { TransportConfigError } from './errors';
import { checkBrokers, checkNonNegativeInteger, checkOptionsObject, checkPositiveInteger } from './option-checks';

describe('option checks', () => {
  it('wants an options object', () => {
    expect(() => checkOptionsObject(undefined)).toThrow(new TransportConfigError('options are required'));
    expect(() => checkOptionsObject(null)).toThrow(TransportConfigError);
    expect(() => checkOptionsObject({})).not.toThrow();
  });

  it('takes host:port and [ipv6]:port brokers only', () => {
    for (const brokers of [['localhost:9092'], ['a:1', '10.0.0.1:19092'], ['[::1]:9093']]) expect(() => checkBrokers(brokers)).not.toThrow();
    for (const brokers of [undefined, [], ['no-port'], ['a :1'], ['a:x'], [9092], 'a:1']) {
      expect(() => checkBrokers(brokers)).toThrow(new TransportConfigError('brokers must be a non-empty array of host:port strings'));
    }
  });

  it('checks integers, leaving undefined alone, and names the option', () => {
    expect(() => checkPositiveInteger('maxBytes', undefined)).not.toThrow();
    expect(() => checkPositiveInteger('maxBytes', 1)).not.toThrow();
    for (const value of [0, -1, 1.5, '3', null]) expect(() => checkPositiveInteger('maxBytes', value)).toThrow(`maxBytes must be a positive integer, got ${JSON.stringify(value)}`);
    expect(() => checkNonNegativeInteger('retries', 0)).not.toThrow();
    expect(() => checkNonNegativeInteger('retries', undefined)).not.toThrow();
    for (const value of [-1, 0.5, '0']) expect(() => checkNonNegativeInteger('retries', value)).toThrow(`retries must be a non-negative integer, got ${JSON.stringify(value)}`);
  });
});
