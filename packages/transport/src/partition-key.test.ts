import { partitionKeyOf, topicPartitionOf } from './partition-key';

describe('partitionKeyOf', () => {
  it('names a partition topic first, as topic:partition', () => {
    expect(partitionKeyOf('orders', 3)).toBe('orders:3');
    expect(partitionKeyOf('orders.billing.retry.1000', 0)).toBe('orders.billing.retry.1000:0');
  });

  it('tells apart partitions whose naive concatenations would collide', () => {
    expect(partitionKeyOf('a1', 1)).not.toBe(partitionKeyOf('a', 11));
    expect(partitionKeyOf('orders', 1)).not.toBe(partitionKeyOf('orders', 10));
  });

  it.each([
    ['orders', 0],
    ['orders-v2.billing_dlq', 11],
    ['a:b.c', 12], // not a legal Kafka topic, still split at the last colon
  ])('splits back: %s partition %d', (topic, partition) => {
    expect(topicPartitionOf(partitionKeyOf(topic, partition))).toEqual({ topic, partition });
  });
});
