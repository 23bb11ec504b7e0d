import { createAvroCodec, createInMemoryRegistry } from '@evkit/codec';
import { createEvent } from '@evkit/envelope';
import { createInMemoryBroker } from '@evkit/transport';
import { createConsumer } from './consumer';

// What the consumer would create from `kafka`: an in-memory subscriber, so no broker is needed.
const broker = createInMemoryBroker({ partitionsPerTopic: 1 });
let created = broker.subscriber();
jest.mock('@evkit/transport-kafkajs', () => ({ ...jest.requireActual<object>('@evkit/transport-kafkajs'), createKafkaJsSubscriber: jest.fn(() => created) }));

const schema = { type: 'record', name: 'Ping', fields: [{ name: 'n', type: 'int' }] };
const codec = createAvroCodec({ registry: createInMemoryRegistry() });

async function publish(topic: string, n: number): Promise<void> {
  const event = createEvent({ source: '/s', type: 'ping', data: { n } });
  await broker.publisher().send([{ topic, ...(await codec.encode(topic, event, schema)) }]);
}

describe('consumer transport ownership', () => {
  it('stops handling on stop() but leaves a transport passed in connected and in the group: it is the caller\'s', async () => {
    broker.createTopic('passed', 1);
    const transport = broker.subscriber();
    const disconnect = jest.spyOn(transport, 'disconnect');
    const seen: number[] = [];
    const consumer = createConsumer({ groupId: 'g-passed', topics: ['passed'], codec, transport, fromBeginning: true }).on<{ n: number }>('ping', async (event) => {
      seen.push(event.data.n);
    });
    await consumer.start();
    await publish('passed', 1);
    await broker.idle();
    await consumer.stop();
    expect(disconnect).not.toHaveBeenCalled();
    expect(transport.assignment()).toEqual([{ topic: 'passed', partition: 0 }]);
    expect(broker.committed('g-passed', 'passed', 0)).toBe('1');
    // Stopped: a later record is neither handled nor committed.
    await publish('passed', 2);
    await broker.idle();
    expect(seen).toEqual([1]);
    expect(broker.committed('g-passed', 'passed', 0)).toBe('1');
    await transport.disconnect();
  });

  it('disconnects the transport it created from kafka options on stop()', async () => {
    broker.createTopic('created', 1);
    const disconnect = jest.spyOn(created, 'disconnect');
    const consumer = createConsumer({ groupId: 'g-created', topics: ['created'], codec, kafka: { brokers: ['127.0.0.1:1'] }, fromBeginning: true }).on('ping', async () => {});
    await consumer.start();
    await consumer.stop();
    expect(disconnect).toHaveBeenCalledTimes(1);
  });

  it('leaves nothing running after a failed start: the transport it created is disconnected, and start() can be tried again', async () => {
    created = broker.subscriber();
    const failures = [new Error('UNKNOWN_TOPIC_OR_PARTITION')];
    const run = created.run.bind(created);
    jest.spyOn(created, 'run').mockImplementation((options) => {
      const failure = failures.shift();
      return failure ? Promise.reject(failure) : run(options);
    });
    const disconnect = jest.spyOn(created, 'disconnect');
    disconnect.mockClear();
    const consumer = createConsumer({ groupId: 'g-failed', topics: ['failed'], codec, kafka: { brokers: ['127.0.0.1:1'] }, startTimeoutMs: 1 }).on('ping', async () => {});
    await expect(consumer.start()).rejects.toThrow('UNKNOWN_TOPIC_OR_PARTITION');
    expect(disconnect).toHaveBeenCalledTimes(1);
    await consumer.start();
    await consumer.stop();
    expect(disconnect).toHaveBeenCalledTimes(2);
  });
});
