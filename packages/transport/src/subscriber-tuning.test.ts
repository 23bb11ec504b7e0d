import { TransportConfigError } from './errors';
import { resolveSubscriberTuning } from './subscriber-tuning';

describe('resolveSubscriberTuning', () => {
  it('applies the defaults every transport shares', () => {
    expect(resolveSubscriberTuning({})).toEqual({
      partitionsConsumedConcurrently: 3,
      sessionTimeout: 30_000,
      rebalanceTimeout: 60_000,
      heartbeatInterval: 3_000,
      maxBytesPerPartition: 1_048_576,
      maxBytes: 10_485_760,
      maxWaitTimeInMs: 500,
      topicLeaderTimeoutMs: 30_000,
      redeliveryDelayMs: 1_000,
    });
  });

  it('keeps what was given, a redelivery delay of 0 included', () => {
    expect(resolveSubscriberTuning({ sessionTimeout: 10_000, heartbeatInterval: 9_999, redeliveryDelayMs: 0, maxBytes: 1 })).toMatchObject({
      sessionTimeout: 10_000,
      heartbeatInterval: 9_999,
      redeliveryDelayMs: 0,
      maxBytes: 1,
    });
  });

  it.each([
    [{ partitionsConsumedConcurrently: 0 }, 'partitionsConsumedConcurrently must be a positive integer, got 0'],
    [{ maxWaitTimeInMs: 1.5 }, 'maxWaitTimeInMs must be a positive integer, got 1.5'],
    [{ topicLeaderTimeoutMs: -1 }, 'topicLeaderTimeoutMs must be a positive integer, got -1'],
    [{ redeliveryDelayMs: -1 }, 'redeliveryDelayMs must be a non-negative integer, got -1'],
    [{ heartbeatInterval: 6_000, sessionTimeout: 6_000 }, 'heartbeatInterval (6000) must be below sessionTimeout (6000)'],
  ])('refuses %j', (options, message) => {
    expect(() => resolveSubscriberTuning(options)).toThrow(TransportConfigError);
    expect(() => resolveSubscriberTuning(options)).toThrow(message);
  });
});
