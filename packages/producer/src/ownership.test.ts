import { createAvroCodec, createInMemoryRegistry } from '@evkit/codec';
import type { PublisherTransport } from '@evkit/transport';
import { createProducer } from './producer';

// What the producer would create from `kafka`: a stand-in, so no broker is needed.
const created = { connect: jest.fn(async () => {}), send: jest.fn(async () => []), disconnect: jest.fn(async () => {}) };
jest.mock('@evkit/transport-kafkajs', () => ({ ...jest.requireActual<object>('@evkit/transport-kafkajs'), createKafkaJsPublisher: jest.fn(() => created) }));

const codec = createAvroCodec({ registry: createInMemoryRegistry() });

describe('producer transport ownership', () => {
  it('leaves a transport passed in open on disconnect: it is the caller\'s', async () => {
    const disconnect = jest.fn(async () => {});
    const transport: PublisherTransport = { connect: jest.fn(async () => {}), send: jest.fn(async () => []), disconnect };
    const producer = createProducer({ codec, source: '/s', transport });
    await producer.connect();
    await producer.disconnect();
    expect(disconnect).not.toHaveBeenCalled();
  });

  it('closes the transport it created from kafka options on disconnect', async () => {
    const producer = createProducer({ codec, source: '/s', kafka: { brokers: ['127.0.0.1:1'] } });
    await producer.connect();
    expect(created.disconnect).not.toHaveBeenCalled();
    await producer.disconnect();
    expect(created.disconnect).toHaveBeenCalledTimes(1);
  });
});
