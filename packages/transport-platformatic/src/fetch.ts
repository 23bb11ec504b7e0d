import type { Consumer, RecordsBatch } from '@platformatic/kafka';
import type { IncomingRecord } from '@evkit/transport';
import { fromHeaderPairs } from './records';

type FetchResponse = Awaited<ReturnType<Consumer['fetch']>>;

// Turning the client's Fetch responses into evkit records. @platformatic/kafka's own
// MessagesStream is one stream for all partitions (no per-partition pause, seek or batches), so
// the subscriber runs its own fetch loop on `consumer.fetch` and reads the responses here.

/** Record batch attribute bits (Kafka's DefaultRecordBatch). */
const IS_CONTROL = 1 << 5;
const LOG_APPEND_TIME = 1 << 3;

/** Kafka's OFFSET_OUT_OF_RANGE error code. */
export const OFFSET_OUT_OF_RANGE = 1;

export interface FetchedPartition {
  topic: string;
  partition: number;
  errorCode: number;
  highWatermark: bigint;
  logStartOffset: bigint;
  /** Records at or after the fetch offset, in offset order; control records left out. */
  records: IncomingRecord[];
  /** The offset after the last batch read, control batches included (a fetch may end in one). */
  nextOffset: bigint | undefined;
}

/** The partitions of a response, records from `fetchOffset(topic, partition)` on. */
export function readFetchResponse(
  response: FetchResponse,
  topicOf: (topicId: string) => string | undefined,
  fetchOffset: (topic: string, partition: number) => bigint | undefined,
): FetchedPartition[] {
  const fetched: FetchedPartition[] = [];
  for (const topicResponse of response.responses) {
    const topic = topicOf(topicResponse.topicId);
    if (topic === undefined) continue;
    for (const p of topicResponse.partitions) {
      const from = fetchOffset(topic, p.partitionIndex);
      if (from === undefined) continue;
      const { records, nextOffset } = p.errorCode === 0 ? readBatches(topic, p.partitionIndex, p.records ?? [], from) : { records: [], nextOffset: undefined };
      fetched.push({ topic, partition: p.partitionIndex, errorCode: p.errorCode, highWatermark: p.highWatermark, logStartOffset: p.logStartOffset, records, nextOffset });
    }
  }
  return fetched;
}

function readBatches(topic: string, partition: number, batches: readonly RecordsBatch[], from: bigint): { records: IncomingRecord[]; nextOffset: bigint | undefined } {
  const records: IncomingRecord[] = [];
  let nextOffset: bigint | undefined;
  for (const batch of batches) {
    const after = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
    if (after > from) nextOffset = nextOffset === undefined || after > nextOffset ? after : nextOffset;
    if ((batch.attributes & IS_CONTROL) !== 0) continue;
    const logAppendTime = (batch.attributes & LOG_APPEND_TIME) !== 0;
    for (const record of batch.records) {
      const offset = batch.firstOffset + BigInt(record.offsetDelta);
      // A batch is returned whole: records before the fetch offset were handed out already.
      if (offset < from) continue;
      records.push({
        topic,
        partition,
        offset: offset.toString(),
        timestamp: Number(logAppendTime ? batch.maxTimestamp : batch.firstTimestamp + record.timestampDelta),
        key: record.key,
        value: record.value,
        headers: fromHeaderPairs(record.headers),
      });
    }
  }
  return { records, nextOffset };
}

/** The Fetch response an error carries (the client rejects a fetch with any partition error). */
export function responseOf(error: unknown): FetchResponse | undefined {
  const seen = new Set<unknown>();
  const visit = (current: unknown): FetchResponse | undefined => {
    if (current === null || typeof current !== 'object' || seen.has(current)) return undefined;
    seen.add(current);
    const response = (current as { response?: unknown }).response as FetchResponse | undefined;
    if (response && Array.isArray(response.responses)) return response;
    if (current instanceof AggregateError) {
      for (const inner of current.errors as unknown[]) {
        const found = visit(inner);
        if (found) return found;
      }
    }
    return visit((current as { cause?: unknown }).cause);
  };
  return visit(error);
}
