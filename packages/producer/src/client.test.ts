import { createAvroCodec, createInMemoryRegistry } from '@evkit/codec';
import { createInMemoryBroker, TransportConfigError } from '@evkit/transport';
import { ProducerConfigError } from './errors';
import { createProducer } from './producer';

// Jest's CommonJS loader cannot read the ESM-only client (Node itself can, with require(esm)):
// a stand-in, which the transport's Node-version check comes before any use of.
jest.mock('@platformatic/kafka', () => ({}));

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const platformaticRuns = (major === 22 && minor >= 22) || (major === 24 && minor >= 6) || major > 24;
const codec = createAvroCodec({ registry: createInMemoryRegistry() });
const schema = { type: 'record', name: 'Ping', namespace: 'com.example', fields: [{ name: 'n', type: 'int' }] };

describe('producer client option', () => {
  it('refuses a client that is none of the known ones, naming the option', () => {
    expect(() => createProducer({ codec, source: '/s', client: 'rdkafka' as 'kafkajs', kafka: { brokers: ['127.0.0.1:1'] } })).toThrow(
      new ProducerConfigError('client must be one of kafkajs, platformatic, got "rdkafka"'),
    );
  });

  (platformaticRuns ? it.skip : it)('on Node older than @platformatic/kafka needs, fails at creation with the transport\'s Node-version error', () => {
    expect(() => createProducer({ codec, source: '/s', client: 'platformatic', kafka: { brokers: ['127.0.0.1:1'] } })).toThrow(TransportConfigError);
    expect(() => createProducer({ codec, source: '/s', client: 'platformatic', kafka: { brokers: ['127.0.0.1:1'] } })).toThrow(/needs Node >= 22\.22/);
  });

  it('uses a transport passed in whatever the client, loading no client package', async () => {
    const broker = createInMemoryBroker({ partitionsPerTopic: 1 });
    const producer = createProducer({ codec, source: '/s', client: 'platformatic', transport: broker.publisher() });
    const { position } = await producer.publish('pings', { type: 'com.example.ping', data: { n: 1 } }, schema);
    expect(position).toEqual({ topic: 'pings', partition: 0, offset: '0' });
    await producer.disconnect();
  });
});
