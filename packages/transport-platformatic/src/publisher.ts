import { ProduceAcks, Producer, type MessageToProduce, type ProduceResult, type RetryDelayGetter } from '@platformatic/kafka';
import {
  connectOnce,
  createSendCoalescer,
  partitionForKey,
  resolveSendCoalescing,
  TransportConfigError,
  TransportSendError,
  type OutgoingRecord,
  type PublisherTransport,
  type RecordPosition,
  type SendCoalescingOptions,
} from '@evkit/transport';
import { baseOptions, isRetriable, messageOf, platformaticErrors, type PlatformaticClientOptions } from './client';
import { toHeaderMap } from './records';

/** The client options, and the shared coalescing of concurrent sends (`SendCoalescingOptions`). */
export interface PlatformaticPublisherOptions extends PlatformaticClientOptions, SendCoalescingOptions {}

/**
 * Send retries when `retries` is not given: 10 attempts from 300 ms doubling to 30 s, about two
 * minutes in all, like the Java producer's `delivery.timeout.ms`.
 */
export const DEFAULT_SEND_RETRIES = 10;
export const defaultSendRetryDelay: RetryDelayGetter = (_client, _operation, attempt) => Math.min(300 * 2 ** Math.max(0, attempt - 1), 30_000);

type Message = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;

export function createPlatformaticPublisher(options: PlatformaticPublisherOptions): PublisherTransport {
  const base = baseOptions(options, 'publisher');
  const coalescing = resolveSendCoalescing(options);
  // @platformatic/kafka turns retries of 0 or 1 into "forever" for an idempotent producer.
  if (options.retries !== undefined && options.retries < 2) {
    throw new TransportConfigError(`retries must be at least 2 for the publisher (the client retries an idempotent producer forever below that), got ${options.retries}`);
  }
  const producerOptions = {
    ...base,
    retries: options.retries ?? DEFAULT_SEND_RETRIES,
    retryDelay: options.retryDelay ?? defaultSendRetryDelay,
    idempotent: true,
    acks: ProduceAcks.ALL,
  };

  // One producer id per Producer. Its sequence numbers are only safe while no send of it has an
  // unknown outcome: see `sendAll`.
  const newIdentity = () => {
    const producer = new Producer(producerOptions);
    return { producer, connection: connectOnce(() => producer.initIdempotentProducer({}), 'publisher', platformaticErrors) };
  };
  let identity = newIdentity();
  let outcomeUnknown = false;
  // Keyless records are spread over the partitions, one after the other per topic.
  const nextKeyless = new Map<string, number>();

  const sendAll = async (records: OutgoingRecord[]): Promise<(RecordPosition | TransportSendError)[]> => {
    const topics = [...new Set(records.map((r) => r.topic))];
    if (outcomeUnknown) {
      // KIP-360's remedy, as the Java producer does: a new producer id before any other batch, so
      // no later batch is taken by the broker for a retry of one it may have written.
      const abandoned = identity.producer;
      identity = newIdentity();
      outcomeUnknown = false;
      // Closing only releases sockets: the abandoned id is never used again.
      await abandoned.close(true).catch(() => undefined);
    }
    const { producer, connection } = identity;
    let messages: Message[];
    try {
      await connection.connect();
      const metadata = await producer.metadata({ topics });
      messages = records.map((record): Message => {
        const count = metadata.topics.get(record.topic)?.partitionsCount;
        if (count === undefined || count < 1) throw new Error(`topic ${record.topic} has no partitions in the cluster's metadata`);
        // Java's murmur2 for keyed records (the client's own default hashes differently), and
        // an explicit partition for every record, so the client's retries keep it there.
        let partition: number;
        if (record.key === null || record.key === undefined) {
          partition = (nextKeyless.get(record.topic) ?? 0) % count;
          nextKeyless.set(record.topic, partition + 1);
        } else {
          partition = partitionForKey(record.key, count);
        }
        return {
          topic: record.topic,
          partition,
          key: record.key === null || record.key === undefined ? undefined : typeof record.key === 'string' ? Buffer.from(record.key, 'utf8') : record.key,
          value: record.value ?? undefined,
          headers: toHeaderMap(record.headers),
        };
      });
    } catch (error) {
      throw new TransportSendError(`sending ${records.length} record(s) to ${topics.join(', ')} failed: nothing was sent: ${messageOf(error)}`, {
        cause: error,
        retriable: isRetriable(error),
        outcomeUnknown: false,
      });
    }
    let result: ProduceResult;
    try {
      result = await producer.send({ messages });
    } catch (error) {
      // The client resends a batch with the same sequence number on its own retries, so the
      // broker drops copies; once it gives up, the batch may have been written all the same.
      outcomeUnknown = true;
      throw new TransportSendError(
        `sending ${records.length} record(s) to ${topics.join(', ')} failed with an unknown outcome (they may or may not be on the topic; send them again with the same event ids): ${messageOf(error)}`,
        { cause: error, retriable: isRetriable(error), outcomeUnknown: true },
      );
    }
    // One request carries one record batch per partition, its records in the order given, so
    // they sit at consecutive offsets from the batch's base offset.
    const baseOffsets = new Map((result.offsets ?? []).map((o) => [`${o.partition}:${o.topic}`, o.offset]));
    const next = new Map<string, bigint>();
    return records.map((record, i) => {
      const { partition } = messages[i]!;
      const key = `${partition}:${record.topic}`;
      const offset = next.get(key) ?? baseOffsets.get(key);
      if (partition === undefined || offset === undefined || offset < 0n) {
        // Only this record's caller fails: the partitions that were acknowledged keep their
        // positions (F8 in docs/reliability.md). A new producer id follows, as after a failed send.
        outcomeUnknown = true;
        return new TransportSendError(
          `@platformatic/kafka acknowledged no offset for ${record.topic} partition ${partition}: the record may or may not be on the topic; send it again with the same event id`,
          { outcomeUnknown: true, retriable: true },
        );
      }
      next.set(key, offset + 1n);
      return { topic: record.topic, partition, offset: offset.toString() };
    });
  };

  // One request in flight at a time. Order: the client keeps one request in flight per
  // connection for an idempotent producer, but two separate sends of one partition could still
  // pass each other on a retry. Safety: a failed request renews the producer id before the next.
  const coalescer = createSendCoalescer(sendAll, coalescing);
  let closed = false;
  return {
    connect: () => identity.connection.connect(),
    send(records) {
      if (closed) return Promise.reject(new TransportSendError('the publisher is disconnected: nothing was sent', { outcomeUnknown: false, retriable: false }));
      return coalescer.send(records);
    },
    async disconnect() {
      closed = true;
      await coalescer.drain();
      identity.connection.reset();
      await identity.producer.close();
    },
  };
}
