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
      groupInstanceId: undefined,
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

  it('keeps a static member name', () => {
    expect(resolveSubscriberTuning({ groupInstanceId: 'orders-0.eu_west-1' }).groupInstanceId).toBe('orders-0.eu_west-1');
  });

  it.each([
    [{ partitionsConsumedConcurrently: 0 }, 'partitionsConsumedConcurrently must be a positive integer, got 0'],
    [{ maxWaitTimeInMs: 1.5 }, 'maxWaitTimeInMs must be a positive integer, got 1.5'],
    [{ topicLeaderTimeoutMs: -1 }, 'topicLeaderTimeoutMs must be a positive integer, got -1'],
    [{ redeliveryDelayMs: -1 }, 'redeliveryDelayMs must be a non-negative integer, got -1'],
    [{ heartbeatInterval: 6_000, sessionTimeout: 6_000 }, 'heartbeatInterval (6000) must be below sessionTimeout (6000)'],
    [{ groupInstanceId: '' }, 'groupInstanceId must be 1 to 249 letters'],
    [{ groupInstanceId: 'pod 0' }, 'groupInstanceId must be 1 to 249 letters'],
    [{ groupInstanceId: 'x'.repeat(250) }, 'groupInstanceId must be 1 to 249 letters'],
    [{ groupInstanceId: 7 as unknown as string }, 'groupInstanceId must be 1 to 249 letters'],
  ])('refuses %j', (options, message) => {
    expect(() => resolveSubscriberTuning(options)).toThrow(TransportConfigError);
    expect(() => resolveSubscriberTuning(options)).toThrow(message);
  });
});
