import { createInMemoryRegistry } from '@evkit/codec';
import { createInMemoryBroker, TransportConfigError, type PublisherTransport, type SubscriberTransport } from '@evkit/transport';
import { ServiceConfigError } from './errors';
import { createEvkit } from './evkit';

// Jest's CommonJS loader cannot read the ESM-only client (Node itself can, with require(esm)):
// a stand-in, which the transport's Node-version check comes before any use of.
jest.mock('@platformatic/kafka', () => ({}));

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const platformaticRuns = (major === 22 && minor >= 22) || (major === 24 && minor >= 6) || major > 24;

const Ping = { type: 'record', name: 'Ping', namespace: 'com.example', fields: [{ name: 'n', type: 'int' }] } as const;
const catalogue: { schemas: { 'com.example.ping': object }; dataTypes?: { 'com.example.ping': { n: number } } } = { schemas: { 'com.example.ping': Ping } };
const base = { source: '/pinger', catalogue, registry: createInMemoryRegistry() };

describe('createEvkit client option', () => {
  it('refuses an unknown client, and a client beside transports, naming the option', () => {
    expect(() => createEvkit({ ...base, client: 'rdkafka' as 'kafkajs', kafka: { brokers: ['127.0.0.1:1'] } })).toThrow(
      new ServiceConfigError('createEvkit: client must be one of kafkajs, platformatic'),
    );
    const broker = createInMemoryBroker();
    expect(() => createEvkit({ ...base, client: 'kafkajs', transports: { publisher: () => broker.publisher(), subscriber: () => broker.subscriber() } })).toThrow(
      /client chooses the transports made from kafka/,
    );
  });

  (platformaticRuns ? it.skip : it)('on Node older than @platformatic/kafka needs, gives its Node-version error when a part is made', async () => {
    const evkit = createEvkit({ ...base, client: 'platformatic', kafka: { brokers: ['127.0.0.1:1'] } });
    expect(() => evkit.consumer({ groupId: 'g', topics: ['pings'] })).toThrow(TransportConfigError);
    await expect(evkit.publish('pings', { type: 'com.example.ping', data: { n: 1 } })).rejects.toThrow(/needs Node >= 22\.22/);
    await evkit.close();
  });

  it('makes every part on the chosen client: producer, consumer and the failure routing\'s publisher', async () => {
    // The platformatic transport stood in for by the in-memory broker, recording what it is asked to make.
    const broker = createInMemoryBroker({ partitionsPerTopic: 1 });
    const made: { kind: string; options: object }[] = [];
    const isolated = await new Promise<typeof import('./evkit')>((resolve) => {
      jest.isolateModules(() => {
        jest.doMock('@evkit/transport-platformatic', () => ({
          createPlatformaticPublisher: (options: object): PublisherTransport => (made.push({ kind: 'publisher', options }), broker.publisher()),
          createPlatformaticSubscriber: (options: object): SubscriberTransport => (made.push({ kind: 'subscriber', options }), broker.subscriber()),
        }));
        resolve(jest.requireActual<typeof import('./evkit')>('./evkit'));
      });
    });
    const evkit = isolated.createEvkit({ ...base, client: 'platformatic', kafka: { brokers: ['127.0.0.1:1'], clientId: 'pinger' } });
    const seen: number[] = [];
    const consumer = evkit.consumer({ groupId: 'g', topics: ['pings'], fromBeginning: true, group: { sessionTimeout: 10_000 } });
    consumer.on('com.example.ping', async (event) => {
      seen.push(event.data.n);
    });
    await consumer.start();
    await evkit.publish('pings', { type: 'com.example.ping', data: { n: 7 } });
    for (let i = 0; i < 100 && seen.length === 0; i += 1) await new Promise((r) => setTimeout(r, 10));
    await evkit.close();
    expect(seen).toEqual([7]);
    const connection = { brokers: ['127.0.0.1:1'], clientId: 'pinger' };
    expect(made).toEqual([
      { kind: 'publisher', options: connection }, // the failure routing's
      { kind: 'subscriber', options: { ...connection, sessionTimeout: 10_000, redeliveryDelayMs: 0 } },
      { kind: 'publisher', options: connection }, // the producer's
    ]);
  });
});
