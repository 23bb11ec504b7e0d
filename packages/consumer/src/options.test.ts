import type { AvroCodec } from '@evkit/codec';
import type { SubscriberTransport } from '@evkit/transport';
import { ConsumerConfigError } from './errors';
import { resolveOptions, type ConsumerOptions } from './options';

const base: ConsumerOptions = {
  groupId: 'g',
  topics: ['t'],
  codec: { decode: () => Promise.reject(new Error('unused')) } as unknown as AvroCodec,
  transport: {} as SubscriberTransport,
};

describe('resolveOptions', () => {
  it('applies the defaults table', () => {
    expect(resolveOptions(base)).toEqual({
      keyConcurrency: 1,
      maxInFlight: 64,
      handlerTimeoutMs: undefined,
      backoffInitialMs: 200,
      backoffMaxMs: 30_000,
      commitIntervalMs: 1000,
      startTimeoutMs: 30_000,
      unknownEventTypes: 'skip',
      dedupeBatching: undefined, // decided by the store and keyConcurrency
    });
  });

  it.each<[Partial<ConsumerOptions>, RegExp]>([
    [{ keyConcurrency: 1.5 }, /keyConcurrency must be an integer from 1/],
    [{ maxInFlight: 0 }, /maxInFlight must be an integer from 1/],
    // Each is a timer: Node fires one longer than 2^31-1 ms at once.
    [{ handlerTimeoutMs: 2 ** 31 }, /handlerTimeoutMs must be an integer from 1 to 2147483647/],
    [{ failureBackoff: { maxMs: 2 ** 31 } }, /failureBackoff.maxMs must be an integer from 1 to 2147483647/],
    [{ failureBackoff: { initialMs: -1 } }, /failureBackoff.initialMs must be an integer/],
    [{ failureBackoff: { initialMs: 500, maxMs: 100 } }, /initialMs \(500\) must not exceed failureBackoff.maxMs \(100\)/],
    [{ failureBackoff: 5 as never }, /failureBackoff must be an object/],
    [{ commitIntervalMs: 0 }, /commitIntervalMs must be an integer from 1/],
    [{ commitIntervalMs: Number.NaN }, /commitIntervalMs must be an integer/],
    [{ unknownEventTypes: 'drop' as never }, /unknownEventTypes must be one of skip, fail, dead-letter/],
    [{ dedupeBatching: 'yes' as never }, /dedupeBatching must be a boolean/],
    [{ middleware: 'tracing' as never }, /middleware must be an array/],
    [{ groupId: '' }, /groupId is required/],
    [{ transport: undefined }, /give either transport or kafka/],
    [{ client: 'rdkafka' as never }, /client must be one of kafkajs, platformatic, got "rdkafka"/],
  ])('refuses %p', (override, message) => {
    expect(() => resolveOptions({ ...base, ...override })).toThrow(ConsumerConfigError);
    expect(() => resolveOptions({ ...base, ...override })).toThrow(message);
  });

  it('takes either client, each with its own connection options (typed here, checked by its transport)', () => {
    const onKafkaJs: ConsumerOptions = { ...base, transport: undefined, kafka: { brokers: ['b:9092'], ssl: true, connectionTimeout: 500, sessionTimeout: 10_000 } };
    const onPlatformatic: ConsumerOptions = { ...base, transport: undefined, client: 'platformatic', kafka: { brokers: ['b:9092'], tls: {}, retries: 3, sessionTimeout: 10_000 } };
    expect([resolveOptions(onKafkaJs).keyConcurrency, resolveOptions(onPlatformatic).keyConcurrency]).toEqual([1, 1]);
  });
});
