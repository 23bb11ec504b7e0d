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
