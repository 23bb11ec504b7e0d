import { MultipleErrors, ResponseError } from '@platformatic/kafka';
import { readFetchResponse, responseOf } from './fetch';

const record = (offsetDelta: number, value: string) => ({
  length: 0,
  attributes: 0,
  timestampDelta: BigInt(offsetDelta),
  offsetDelta,
  key: Buffer.from('k'),
  value: Buffer.from(value),
  headers: [[Buffer.from('h'), Buffer.from(value)]] as [Buffer, Buffer][],
});

const batch = (firstOffset: bigint, values: string[], attributes = 0) => ({
  firstOffset,
  length: 0,
  partitionLeaderEpoch: 0,
  magic: 2,
  crc: 0,
  attributes,
  lastOffsetDelta: values.length - 1,
  firstTimestamp: 1_000n,
  maxTimestamp: 5_000n,
  producerId: -1n,
  producerEpoch: -1,
  firstSequence: -1,
  records: values.map((v, i) => record(i, v)),
});

const response = (partitions: object[]) => ({ throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses: [{ topicId: 'id-1', partitions }] });
const partition = (records: ReturnType<typeof batch>[], errorCode = 0) => ({
  partitionIndex: 2,
  errorCode,
  highWatermark: 20n,
  lastStableOffset: 20n,
  logStartOffset: 0n,
  abortedTransactions: null,
  preferredReadReplica: -1,
  records,
});

describe('readFetchResponse', () => {
  it('reads records from the fetch offset on, with their offsets, timestamps and headers', () => {
    const [fetched] = readFetchResponse(response([partition([batch(8n, ['a', 'b', 'c']), batch(11n, ['d'])])]) as never, () => 'orders', () => 9n);
    expect(fetched).toMatchObject({ topic: 'orders', partition: 2, errorCode: 0, highWatermark: 20n, nextOffset: 12n });
    expect(fetched!.records.map((r) => [r.offset, r.value!.toString(), r.timestamp])).toEqual([
      ['9', 'b', 1001],
      ['10', 'c', 1002],
      ['11', 'd', 1000],
    ]);
    expect(fetched!.records[0]!.headers).toEqual({ h: Buffer.from('b') });
  });

  it('skips control batches but moves past them, and uses log-append time when the batch says so', () => {
    const control = batch(3n, ['marker'], 1 << 5);
    const appended = batch(4n, ['x'], 1 << 3);
    const [fetched] = readFetchResponse(response([partition([control, appended])]) as never, () => 't', () => 3n);
    expect(fetched!.records.map((r) => [r.offset, r.timestamp])).toEqual([['4', 5000]]);
    const [onlyControl] = readFetchResponse(response([partition([control])]) as never, () => 't', () => 3n);
    expect(onlyControl).toMatchObject({ records: [], nextOffset: 4n });
  });

  it('leaves out unknown topics and partitions not asked for, and reads no records of a partition in error', () => {
    expect(readFetchResponse(response([partition([batch(0n, ['a'])])]) as never, () => undefined, () => 0n)).toEqual([]);
    expect(readFetchResponse(response([partition([batch(0n, ['a'])])]) as never, () => 't', () => undefined)).toEqual([]);
    const [failed] = readFetchResponse(response([partition([], 1)]) as never, () => 't', () => 0n);
    expect(failed).toMatchObject({ errorCode: 1, records: [] });
  });
});

describe('responseOf', () => {
  it('finds the response a failed fetch carries, inside the retry aggregate', () => {
    const body = response([]);
    const error = new MultipleErrors('fetch failed 1 times.', [new ResponseError(1, 17, { '/responses/0/partitions/0': [1, null] }, body)]);
    expect(responseOf(error)).toBe(body);
    expect(responseOf(new Error('x'))).toBeUndefined();
  });
});
