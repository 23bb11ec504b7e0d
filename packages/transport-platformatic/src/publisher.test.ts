import { TransportConfigError } from '@evkit/transport';
import { createPlatformaticPublisher, defaultSendRetryDelay } from './publisher';

describe('createPlatformaticPublisher options', () => {
  it.each([
    [{ brokers: ['a:1'], retries: 1 }, /retries must be at least 2/],
    [{ brokers: ['a:1'], retries: 0 }, /retries must be at least 2/],
    [{ brokers: ['a:1'], lingerMs: -1 }, /lingerMs/],
    [{ brokers: ['a:1'], maxBatchRecords: 0 }, /maxBatchRecords/],
    [{ brokers: ['a:1'], maxBatchBytes: 1.5 }, /maxBatchBytes/],
    [{ brokers: [] }, /brokers/],
  ])('refuses %j at the edge', (options, message) => {
    expect(() => createPlatformaticPublisher(options)).toThrow(TransportConfigError);
    expect(() => createPlatformaticPublisher(options)).toThrow(message);
  });

  it('backs off from 300 ms doubling up to 30 s between send attempts', () => {
    const delays = [1, 2, 3, 8, 9, 10].map((attempt) => defaultSendRetryDelay({}, 'produce', attempt, 10, new Error('x')));
    expect(delays).toEqual([300, 600, 1200, 30_000, 30_000, 30_000]);
  });

  it('resolves an empty send without connecting, and refuses sends once disconnected', async () => {
    const publisher = createPlatformaticPublisher({ brokers: ['127.0.0.1:1'] });
    await expect(publisher.send([])).resolves.toEqual([]);
    await publisher.disconnect();
    await expect(publisher.send([{ topic: 't', key: 'k', value: null, headers: {} }])).rejects.toMatchObject({
      code: 'EVKIT_TRANSPORT_SEND_FAILED',
      outcomeUnknown: false,
    });
  });
});

// A producer whose answer leaves out partition 1's offset, as when its leader moved mid-request.
const mockProduced = { sends: 0, closed: 0 };
jest.mock('@platformatic/kafka', () => {
  const actual = jest.requireActual<typeof import('@platformatic/kafka')>('@platformatic/kafka');
  class Producer {
    initIdempotentProducer() {
      return Promise.resolve();
    }
    metadata() {
      return Promise.resolve({ topics: new Map([['t', { partitionsCount: 2 }]]) });
    }
    send() {
      mockProduced.sends += 1;
      return Promise.resolve({ offsets: [{ topic: 't', partition: 0, offset: 10n }] });
    }
    close() {
      mockProduced.closed += 1;
      return Promise.resolve();
    }
  }
  return { ...actual, Producer };
});

describe('a request acknowledged in part (F8)', () => {
  it('fails only the callers of the records without an offset, and renews the producer id before the next request', async () => {
    const publisher = createPlatformaticPublisher({ brokers: ['127.0.0.1:1'] });
    // Keyless records go round the partitions: 0, 1, 0.
    const [first, second, third] = await Promise.allSettled([
      publisher.send([{ topic: 't', key: null, value: Buffer.from('a'), headers: {} }]),
      publisher.send([{ topic: 't', key: null, value: Buffer.from('b'), headers: {} }]),
      publisher.send([{ topic: 't', key: null, value: Buffer.from('c'), headers: {} }]),
    ]);
    expect(first).toEqual({ status: 'fulfilled', value: [{ topic: 't', partition: 0, offset: '10' }] });
    expect(second).toMatchObject({ status: 'rejected', reason: { code: 'EVKIT_TRANSPORT_SEND_FAILED', outcomeUnknown: true, retriable: true } });
    expect(third.status).toBe('fulfilled');
    const closedBefore = mockProduced.closed;
    await publisher.send([{ topic: 't', key: null, value: Buffer.from('d'), headers: {} }]).catch(() => undefined);
    expect(mockProduced.closed).toBe(closedBefore + 1); // the producer that left a record unknown is replaced
    await publisher.disconnect();
  });
});
