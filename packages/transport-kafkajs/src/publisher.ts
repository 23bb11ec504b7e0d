import { Partitioners, type Message, type RetryOptions } from 'kafkajs';
import {
  TransportSendError,
  type OutgoingRecord,
  type PublisherTransport,
  type RecordPosition,
} from '@evkit/transport';
import { connectOnce, isRetriable, messageOf, resolveClient, type KafkaJsClientOptions } from './client';

export type KafkaJsPublisherOptions = KafkaJsClientOptions;

/**
 * Send retries when `retry` is not given: about two minutes of exponential backoff (300 ms
 * doubling to 30 s), like the Java producer's `delivery.timeout.ms`. KafkaJS's own default for
 * an idempotent producer retries forever, so a send would hang while the cluster is down.
 */
export const DEFAULT_SEND_RETRY: RetryOptions = { retries: 10, initialRetryTime: 300, maxRetryTime: 30_000 };

export function createKafkaJsPublisher(options: KafkaJsPublisherOptions): PublisherTransport {
  const kafka = resolveClient(options);
  // KafkaJS reports offsets per partition, not per message: remember the partition its
  // partitioner (Java's murmur2, keyless records spread) chose for each message object.
  const partitionOf = new WeakMap<Message, number>();
  const producer = kafka.producer({
    idempotent: true,
    // KafkaJS keeps order under idempotence only with one request in flight.
    maxInFlightRequests: 1,
    retry: options.retry ?? DEFAULT_SEND_RETRY,
    createPartitioner: () => {
      const partitioner = Partitioners.DefaultPartitioner();
      return (args) => {
        const partition = partitioner(args);
        partitionOf.set(args.message, partition);
        return partition;
      };
    },
  });
  const connection = connectOnce(() => producer.connect(), 'publisher');
  const inFlight = new Set<Promise<unknown>>();

  const sendAll = async (records: readonly OutgoingRecord[]): Promise<RecordPosition[]> => {
    const topics = [...new Set(records.map((r) => r.topic))];
    const failure = (error: unknown) =>
      new TransportSendError(`sending ${records.length} record(s) to ${topics.join(', ')} failed: ${messageOf(error)}`, {
        cause: error,
        retriable: isRetriable(error),
      });
    const messages = records.map((record): Message => ({ key: record.key, value: record.value, headers: record.headers }));
    const byTopic = new Map<string, Message[]>();
    records.forEach((record, i) => {
      const list = byTopic.get(record.topic) ?? [];
      list.push(messages[i]!);
      byTopic.set(record.topic, list);
    });
    let acknowledged;
    try {
      await connection.connect();
      acknowledged = await producer.sendBatch({
        acks: -1,
        topicMessages: [...byTopic].map(([topic, topicMessages]) => ({ topic, messages: topicMessages })),
      });
    } catch (error) {
      throw failure(error);
    }
    // One request carries one record batch per partition, so its records sit at consecutive
    // offsets from the batch's base offset, in the order they were given.
    const baseOffsets = new Map(acknowledged.map((ack) => [`${ack.partition}:${ack.topicName}`, BigInt(ack.baseOffset ?? '-1')]));
    const next = new Map<string, bigint>();
    return records.map((record, i) => {
      const partition = partitionOf.get(messages[i]!);
      const key = `${partition}:${record.topic}`;
      const offset = next.get(key) ?? baseOffsets.get(key);
      if (partition === undefined || offset === undefined || offset < 0n) {
        throw failure(new Error(`KafkaJS acknowledged no offset for record ${i} (${record.topic}, partition ${partition})`));
      }
      next.set(key, offset + 1n);
      return { topic: record.topic, partition, offset: offset.toString() };
    });
  };

  // One sendBatch in flight at a time: when a request fails or times out, KafkaJS 2.2.4 hands its
  // idempotent sequence numbers back, and a concurrent send reusing them is taken by the broker
  // for a retry of the batch it already wrote (acknowledged at the wrong offset: a lost event,
  // found by the fault suite; see kafkajs#1005).
  let tail: Promise<unknown> = Promise.resolve();
  return {
    connect: () => connection.connect(),
    send(records) {
      if (records.length === 0) return Promise.resolve([]);
      const work = tail.then(
        () => sendAll(records),
        () => sendAll(records),
      );
      tail = work.catch(() => undefined);
      inFlight.add(work);
      const forget = () => inFlight.delete(work);
      work.then(forget, forget);
      return work;
    },
    async disconnect() {
      await Promise.allSettled([...inFlight]);
      connection.reset();
      await producer.disconnect();
    },
  };
}
