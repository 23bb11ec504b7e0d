import { Partitioners, type Kafka, type Message, type Producer, type RetryOptions } from 'kafkajs';
import {
  connectOnce,
  createSendCoalescer,
  resolveSendCoalescing,
  TransportSendError,
  type OutgoingRecord,
  type PublisherTransport,
  type RecordPosition,
  type SendCoalescingOptions,
} from '@evkit/transport';
import { isRetriable, kafkaJsErrors, messageOf, resolveClient, type KafkaJsClientOptions } from './client';

/** The client options, and the shared coalescing of concurrent sends (`SendCoalescingOptions`). */
export interface KafkaJsPublisherOptions extends KafkaJsClientOptions, SendCoalescingOptions {}

/**
 * Send retries when `retry` is not given: about two minutes of exponential backoff (300 ms
 * doubling to 30 s), like the Java producer's `delivery.timeout.ms`. KafkaJS's own default for
 * an idempotent producer retries forever, so a send would hang while the cluster is down.
 */
export const DEFAULT_SEND_RETRY: RetryOptions = { retries: 10, initialRetryTime: 300, maxRetryTime: 30_000 };

/**
 * One KafkaJS idempotent producer: one producer id, whose sequence numbers are only safe to use
 * while no send of it has an unknown outcome.
 */
interface ProducerIdentity {
  producer: Producer;
  connection: { connect(): Promise<void>; reset(): void };
}

export function createKafkaJsPublisher(options: KafkaJsPublisherOptions): PublisherTransport {
  const kafka = resolveClient(options);
  const coalescing = resolveSendCoalescing(options);
  // KafkaJS reports offsets per partition, not per message: remember the partition its
  // partitioner (Java's murmur2, keyless records spread) chose for each message object. A
  // message keeps that partition on KafkaJS's own retries, so a retry re-sends the same batch
  // with the same sequence number to the same partition (a keyless one would otherwise move).
  const partitionOf = new WeakMap<Message, number>();
  // Set when the producer must not be used again: a sendBatch failed after it may have reached
  // the broker (see `send` below), or connecting failed. After a connect that timed out on a
  // paused broker, KafkaJS 2.2.4 keeps that broker's opened socket as connected without its API
  // versions, skips connecting again, and fails every later request with "Broker not connected"
  // (F9 in docs/reliability.md): only a new producer (a new client) gets out of it.
  let replaceProducer = false;
  const newIdentity = (kafka: Kafka): ProducerIdentity => {
    const producer = kafka.producer({
      idempotent: true,
      // KafkaJS keeps order under idempotence only with one request in flight.
      maxInFlightRequests: 1,
      retry: options.retry ?? DEFAULT_SEND_RETRY,
      createPartitioner: () => {
        const partitioner = Partitioners.DefaultPartitioner();
        return (args) => {
          const partition = partitionOf.get(args.message) ?? partitioner(args);
          partitionOf.set(args.message, partition);
          return partition;
        };
      },
    });
    const connect = () =>
      producer.connect().catch((error: unknown) => {
        replaceProducer = true;
        throw error;
      });
    return { producer, connection: connectOnce(connect, 'publisher', kafkaJsErrors) };
  };
  let identity = newIdentity(kafka);
  const currentIdentity = async (): Promise<ProducerIdentity> => {
    if (replaceProducer) {
      // KIP-360's remedy, as the Java producer does: a new producer id before any other batch.
      const abandoned = identity.producer;
      identity = newIdentity(kafka);
      replaceProducer = false;
      // Closing the abandoned producer only releases its sockets; its id is never used again,
      // so a failure to close changes nothing for the records.
      await abandoned.disconnect().catch(() => undefined);
    }
    return identity;
  };

  const sendAll = async (records: readonly OutgoingRecord[]): Promise<(RecordPosition | TransportSendError)[]> => {
    const topics = [...new Set(records.map((r) => r.topic))];
    const messages = records.map((record): Message => ({ key: record.key, value: record.value, headers: record.headers }));
    const byTopic = new Map<string, Message[]>();
    records.forEach((record, i) => {
      const list = byTopic.get(record.topic) ?? [];
      list.push(messages[i]!);
      byTopic.set(record.topic, list);
    });
    const { producer, connection } = await currentIdentity();
    try {
      await connection.connect();
    } catch (error) {
      throw new TransportSendError(`sending ${records.length} record(s) to ${topics.join(', ')} failed: nothing was sent: ${messageOf(error)}`, {
        cause: error,
        retriable: isRetriable(error),
        outcomeUnknown: false,
      });
    }
    let acknowledged;
    try {
      acknowledged = await producer.sendBatch({
        acks: -1,
        topicMessages: [...byTopic].map(([topic, topicMessages]) => ({ topic, messages: topicMessages })),
      });
    } catch (error) {
      replaceProducer = true;
      throw new TransportSendError(
        `sending ${records.length} record(s) to ${topics.join(', ')} failed with an unknown outcome (they may or may not be on the topic; send them again with the same event ids): ${messageOf(error)}`,
        { cause: error, retriable: isRetriable(error), outcomeUnknown: true },
      );
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
        // KafkaJS 2.2.4 resolves a send without resending a partition whose leader moved to a
        // broker that had already answered for others (sendMessages.js keeps one response per
        // broker), after handing that partition's sequence numbers back: outcome unknown, and
        // the same remedy as a failed send. Only this record's caller fails: the partitions
        // that were acknowledged keep their positions (F8 in docs/reliability.md).
        replaceProducer = true;
        return new TransportSendError(
          `KafkaJS acknowledged no offset for ${record.topic} partition ${partition} (its leader moved mid-request): the record may or may not be on the topic; send it again with the same event id`,
          { outcomeUnknown: true, retriable: true },
        );
      }
      next.set(key, offset + 1n);
      return { topic: record.topic, partition, offset: offset.toString() };
    });
  };

  // One sendBatch in flight at a time, and a new producer id after a failed one. KafkaJS 2.2.4
  // assigns a batch's sequence number when it builds the request and hands it back when the
  // request fails, timeouts and lost connections included (sendMessages.js; kafkajs#1005). The
  // broker may have written that batch all the same; the next batch given the same number is
  // then taken for its retry and acknowledged at its offset, and is lost (B1 in
  // docs/reliability.md). Serialising sends keeps a concurrent batch from taking the number (the
  // coalescer calls `sendAll` again only once the previous call settled); the new producer id
  // keeps a later one from taking it.
  //
  // Sends that arrive meanwhile wait, and then go out together in one request (coalescing), so
  // that many concurrent single sends cost about what one batch does. Each caller gets its own
  // positions; a failed request fails exactly the callers whose records it carried.
  const coalescer = createSendCoalescer(sendAll, coalescing);
  return {
    connect: async () => (await currentIdentity()).connection.connect(),
    send: (records) => coalescer.send(records),
    async disconnect() {
      await coalescer.drain();
      identity.connection.reset();
      await identity.producer.disconnect();
    },
  };
}
