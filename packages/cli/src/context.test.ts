import type { PublisherTransport, SubscriberTransport } from '@evkit/transport';
import { kafkaTransports } from './context';
import { CliUsageError } from './exit-codes';

const env = { EVKIT_KAFKA_BROKERS: '127.0.0.1:1' };

/** context.ts with @evkit/transport-platformatic stood in for, recording the options it is given. */
function withPlatformaticStandIn(): { context: typeof import('./context'); made: object[] } {
  const made: object[] = [];
  let context: typeof import('./context') | undefined;
  jest.isolateModules(() => {
    const transport = { connect: async () => {}, disconnect: async () => {} };
    jest.doMock('@evkit/transport-platformatic', () => ({
      createPlatformaticPublisher: (options: object) => (made.push(options), transport as unknown as PublisherTransport),
      createPlatformaticSubscriber: (options: object) => (made.push(options), transport as unknown as SubscriberTransport),
    }));
    context = jest.requireActual<typeof import('./context')>('./context');
  });
  return { context: context!, made };
}

describe('kafkaTransports', () => {
  it('is on KafkaJS unless EVKIT_TRANSPORT says otherwise', async () => {
    const { publisher, subscriber } = kafkaTransports({}, env);
    expect([typeof publisher.send, typeof subscriber().run]).toEqual(['function', 'function']);
    await publisher.disconnect();
  });

  it('refuses an EVKIT_TRANSPORT that is no client, as a usage error', () => {
    expect(() => kafkaTransports({}, { ...env, EVKIT_TRANSPORT: 'rdkafka' })).toThrow(
      new CliUsageError('EVKIT_TRANSPORT must be one of kafkajs, platformatic, got rdkafka'),
    );
  });

  it('gives @platformatic/kafka the same settings under its names: tls, and SASL mechanisms in capitals', () => {
    const { context, made } = withPlatformaticStandIn();
    const secure = { ...env, EVKIT_TRANSPORT: 'platformatic', EVKIT_KAFKA_SSL: 'true', EVKIT_KAFKA_SASL_MECHANISM: 'scram-sha-512', EVKIT_KAFKA_SASL_USERNAME: 'u', EVKIT_KAFKA_SASL_PASSWORD: 'p' };
    context.kafkaTransports({ brokers: 'b:9093' }, secure).subscriber();
    const expected = { brokers: ['b:9093'], clientId: 'evkit-cli', tls: {}, sasl: { mechanism: 'SCRAM-SHA-512', username: 'u', password: 'p' } };
    expect(made).toEqual([expected, expected]);
  });
});
