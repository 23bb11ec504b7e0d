import { randomBytes } from 'node:crypto';
import { Partitioners, type PartitionerArgs } from 'kafkajs';
import { TransportConfigError } from './errors';
import { murmur2, partitionForKey, toPositive } from './murmur2';

// The first six are the vectors of Kafka's own UtilsTest.testMurmur2; all of them were printed
// by `Utils.murmur2` of the kafka-clients 4.1.1 jar the local stack runs.
const JAVA_MURMUR2: [string | Buffer, number][] = [
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ['abc', 479470107],
  ['', 275646681],
  ['order-42', 501153024],
  ['customer-7', -1283830537],
  ['é日本🎉', 423045876],
  [Buffer.from([0xff, 0x00, 0x80, 0x7f, 0x01]), -315781896],
];

// toPositive(hash) % 12 from the same Java run.
const JAVA_PARTITION_OF_12: [string, number][] = [
  ['21', 0],
  ['foobar', 6],
  ['a-little-bit-long-string', 8],
  ['a-little-bit-longer-string', 11],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', 5],
  ['abc', 3],
  ['', 9],
  ['customer-7', 7],
];

describe('murmur2', () => {
  it.each(JAVA_MURMUR2)('hashes %p as the Java client does', (key, expected) => {
    const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
    expect(murmur2(bytes)).toBe(expected);
  });

  it('picks the partition the Java client picks', () => {
    for (const [key, partition] of JAVA_PARTITION_OF_12) expect(partitionForKey(key, 12)).toBe(partition);
  });

  it('clears the sign bit rather than taking the absolute value', () => {
    expect(toPositive(-2147483648)).toBe(0);
    expect(toPositive(-1)).toBe(2147483647);
    expect(toPositive(5)).toBe(5);
  });

  it('hashes a string as its UTF-8 bytes', () => {
    expect(partitionForKey('é日本🎉', 7)).toBe(partitionForKey(Buffer.from('é日本🎉', 'utf8'), 7));
  });

  it('agrees with KafkaJS DefaultPartitioner on 10,000 random keys', () => {
    const partitioner = Partitioners.DefaultPartitioner();
    const partitionMetadata = (n: number) =>
      Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: 1, partitionErrorCode: 0, replicas: [1], isr: [1] }));
    const metadata = [1, 3, 7, 12, 100].map((n) => ({ n, partitions: partitionMetadata(n) }));
    for (let i = 0; i < 10_000; i++) {
      const key = i % 2 === 0 ? randomBytes(1 + (i % 40)) : randomBytes(1 + (i % 30)).toString('base64');
      const { n, partitions } = metadata[i % metadata.length]!;
      const args: PartitionerArgs = { topic: 't', partitionMetadata: partitions, message: { key, value: null } };
      expect(partitionForKey(key, n)).toBe(partitioner(args));
    }
  });

  it('rejects a partition count that is not a positive integer', () => {
    expect(() => partitionForKey('k', 0)).toThrow(TransportConfigError);
    expect(() => partitionForKey('k', 1.5)).toThrow(TransportConfigError);
  });
});
