import { TransportConfigError } from '@evkit/transport';
import { createPlatformaticSubscriber } from './subscriber';

describe('createPlatformaticSubscriber', () => {
  it.each([
    [{ heartbeatInterval: 6_000, sessionTimeout: 6_000 }, /heartbeatInterval/],
    [{ redeliveryDelayMs: -1 }, /redeliveryDelayMs/],
    [{ partitionsConsumedConcurrently: 0 }, /partitionsConsumedConcurrently/],
    [{ maxWaitTimeInMs: 1.5 }, /maxWaitTimeInMs/],
    [{ onError: 'log' }, /onError/],
    [{ groupInstanceId: 'pod 0' }, /groupInstanceId/],
  ])('refuses %j at the edge', (extra, message) => {
    expect(() => createPlatformaticSubscriber({ brokers: ['a:1'], ...(extra as object) })).toThrow(TransportConfigError);
    expect(() => createPlatformaticSubscriber({ brokers: ['a:1'], ...(extra as object) })).toThrow(message);
  });

  it('checks run options before touching the cluster, and ignores commits, seeks and pauses before a join', async () => {
    const subscriber = createPlatformaticSubscriber({ brokers: ['127.0.0.1:1'] });
    await expect(subscriber.run({ groupId: '', topics: ['t'], handleBatch: () => Promise.resolve() })).rejects.toBeInstanceOf(TransportConfigError);
    await expect(subscriber.commit({ topic: 't', partition: 0, offset: '1' })).resolves.toBeUndefined();
    subscriber.seek({ topic: 't', partition: 0, offset: '1' });
    subscriber.pause([{ topic: 't', partition: 0 }]);
    subscriber.resume([{ topic: 't', partition: 0 }]);
    await expect(subscriber.ensureTopics([{ topic: '' }])).rejects.toBeInstanceOf(TransportConfigError);
    await subscriber.disconnect();
  });
});
