import type { Pool } from 'pg';
import type { PublisherTransport } from '@evkit/transport';
import { createPollingRelay } from './relay';

// What the relay would create from `kafka`: a stand-in, so no broker is needed.
const created = { connect: jest.fn(async () => {}), send: jest.fn(async () => []), disconnect: jest.fn(async () => {}) };
jest.mock('@evkit/transport-kafkajs', () => ({ createKafkaJsPublisher: jest.fn(() => created), withKafkaJsLogger: (options: object) => options }));
const createdOnPlatformatic = { ...created, disconnect: jest.fn(async () => {}) };
jest.mock('@evkit/transport-platformatic', () => ({ createPlatformaticPublisher: jest.fn(() => createdOnPlatformatic) }));

// An outbox with nothing to relay: each batch is BEGIN, an empty claim, COMMIT.
const client = { query: jest.fn(async () => ({ rows: [], rowCount: 0 })), release: jest.fn() };
const pool = { connect: jest.fn(async () => client), query: jest.fn() } as unknown as Pool;

describe('polling relay transport ownership', () => {
  it("leaves a transport passed in open on stop: it is the caller's", async () => {
    const disconnect = jest.fn(async () => {});
    const transport: PublisherTransport = { connect: jest.fn(async () => {}), send: jest.fn(async () => []), disconnect };
    const relay = createPollingRelay({ pool, transport, intervalMs: 5, listen: false, onError: (error) => { throw error; } });
    relay.start();
    await relay.relayBatch();
    await relay.stop();
    expect(disconnect).not.toHaveBeenCalled();
  });

  it('closes the publisher it created from kafka options on stop', async () => {
    const relay = createPollingRelay({ pool, kafka: { brokers: ['127.0.0.1:1'] }, intervalMs: 5, listen: false, onError: (error) => { throw error; } });
    relay.start();
    await relay.relayBatch();
    expect(created.disconnect).not.toHaveBeenCalled();
    await relay.stop();
    expect(created.disconnect).toHaveBeenCalledTimes(1);
  });

  it('makes its publisher on the client chosen, and closes that one on stop', async () => {
    const relay = createPollingRelay({ pool, client: 'platformatic', kafka: { brokers: ['127.0.0.1:1'] }, intervalMs: 5, listen: false, onError: (error) => { throw error; } });
    relay.start();
    await relay.relayBatch();
    await relay.stop();
    expect(createdOnPlatformatic.disconnect).toHaveBeenCalledTimes(1);
  });
});
