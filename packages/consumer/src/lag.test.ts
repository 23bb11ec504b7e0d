import type { PartitionOffsets, SubscriberTransport } from '@evkit/transport';
import { LagReporter } from './lag';

function reporter(offsets: PartitionOffsets[]) {
  const asked = jest.fn(async (_groupId: string, _topics: readonly string[]) => offsets);
  const transport = { offsets: asked } as unknown as SubscriberTransport;
  return { lag: new LagReporter(transport, 'g', ['orders'], () => true), asked };
}


describe('LagReporter', () => {
  it('reports offset lag from the committed offset, the whole log when nothing is committed', async () => {
    const { lag, asked } = reporter([
      { topic: 'orders', partition: 0, committed: '40', highWatermark: '100' },
      { topic: 'orders', partition: 1, committed: '-1', highWatermark: '7' },
      { topic: 'orders', partition: 2, committed: '5', highWatermark: '5' },
    ]);
    const result = await lag.lag();
    expect(asked).toHaveBeenCalledWith('g', ['orders']);
    expect(result.map((p) => [p.partition, p.offsetLag])).toEqual([
      [0, 60],
      [1, 7],
      [2, 0],
    ]);
    expect(result[2]!.timeLagMs).toBe(0); // caught up
    expect(result[0]!.timeLagMs).toBeUndefined(); // behind, but no record fetched yet
  });

  it('ages the oldest unhandled record until it is handled or the partition is gone', async () => {
    const { lag } = reporter([{ topic: 'orders', partition: 0, committed: '1', highWatermark: '3' }]);
    lag.noteOldest(lag.keyOf('orders', 0), Date.now() - 5000);
    const [stuck] = await lag.lag();
    expect(stuck!.timeLagMs).toBeGreaterThanOrEqual(5000);
    expect(stuck!.timeLagMs).toBeLessThan(6000);
    lag.noteOldest(lag.keyOf('orders', 0), undefined);
    expect((await lag.lag())[0]!.timeLagMs).toBeUndefined();
  });
});
