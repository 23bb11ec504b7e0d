import { Partitioners, type Kafka, type Message, type Producer, type RetryOptions } from 'kafkajs';
import {
  TransportConfigError,
  TransportSendError,
  type OutgoingRecord,
  type PublisherTransport,
  type RecordPosition,
} from '@evkit/transport';
import { connectOnce, isRetriable, messageOf, positiveInteger, resolveClient, type KafkaJsClientOptions } from './client';

export interface KafkaJsPublisherOptions extends KafkaJsClientOptions {
  /**
   * Sends that arrive while a request is in flight join the next request, up to this many
   * records in all. A single send larger than this still goes out, alone. Default 10,000.
   */
  maxBatchRecords?: number;
  /** The same bound in bytes (keys, values and headers). Default 1 MiB, Java's `max.request.size`. */
  maxBatchBytes?: number;
  /** Wait this long after a send arrives at an idle publisher, for others to join it. Default 0. */
  lingerMs?: number;
}

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
  positiveInteger('maxBatchRecords', options.maxBatchRecords);
  positiveInteger('maxBatchBytes', options.maxBatchBytes);
  if (options.lingerMs !== undefined && !(Number.isInteger(options.lingerMs) && options.lingerMs >= 0 && options.lingerMs <= 60_000)) {
    throw new TransportConfigError(`lingerMs must be an integer from 0 to 60000, got ${JSON.stringify(options.lingerMs)}`);
  }
  const maxBatchRecords = options.maxBatchRecords ?? 10_000;
  const maxBatchBytes = options.maxBatchBytes ?? 1024 * 1024;
  const lingerMs = options.lingerMs ?? 0;
  // KafkaJS reports offsets per partition, not per message: remember the partition its
  // partitioner (Java's murmur2, keyless records spread) chose for each message object. A
  // message keeps that partition on KafkaJS's own retries, so a retry re-sends the same batch
  // with the same sequence number to the same partition (a keyless one would otherwise move).
  const partitionOf = new WeakMap<Message, number>();
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
    return { producer, connection: connectOnce(() => producer.connect(), 'publisher') };
  };
  let identity = newIdentity(kafka);
  // Set when a sendBatch failed after it may have reached the broker: see `send` below.
  let outcomeUnknown = false;
  const inFlight = new Set<Promise<unknown>>();

  const sendAll = async (records: readonly OutgoingRecord[]): Promise<RecordPosition[]> => {
    const topics = [...new Set(records.map((r) => r.topic))];
    const messages = records.map((record): Message => ({ key: record.key, value: record.value, headers: record.headers }));
    const byTopic = new Map<string, Message[]>();
    records.forEach((record, i) => {
      const list = byTopic.get(record.topic) ?? [];
      list.push(messages[i]!);
      byTopic.set(record.topic, list);
    });
    if (outcomeUnknown) {
      // KIP-360's remedy, as the Java producer does: a new producer id before any other batch.
      const abandoned = identity.producer;
      identity = newIdentity(kafka);
      outcomeUnknown = false;
      // Closing the abandoned producer only releases its sockets; its id is never used again,
      // so a failure to close changes nothing for the records.
      await abandoned.disconnect().catch(() => undefined);
    }
    const { producer, connection } = identity;
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
      outcomeUnknown = true;
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
        // the same remedy as a failed send.
        outcomeUnknown = true;
        throw new TransportSendError(
          `KafkaJS acknowledged no offset for record ${i} (${record.topic}, partition ${partition}): it may or may not be on the topic; send it again with the same event id`,
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
  // docs/reliability.md). Serialising sends keeps a concurrent batch from taking the number;
  // the new producer id keeps a later one from taking it.
  //
  // Sends that arrive meanwhile wait, and then go out together in one request (coalescing), so
  // that many concurrent single sends cost about what one batch does. Each caller gets its own
  // positions; a failed request fails exactly the callers whose records it carried.
  const waiting: PendingSend[] = [];
  let sending = false;
  let lingering = false;
  const pump = () => {
    if (sending || lingering || waiting.length === 0) return;
    sending = true;
    const taken = takeBatch(waiting, maxBatchRecords, maxBatchBytes);
    const work = sendAll(taken.flatMap((pending) => pending.records));
    inFlight.add(work);
    work.then(
      (positions) => {
        let from = 0;
        for (const pending of taken) pending.resolve(positions.slice(from, (from += pending.records.length)));
      },
      (error: unknown) => {
        for (const pending of taken) pending.reject(error);
      },
    ).finally(() => {
      inFlight.delete(work);
      sending = false;
      pump();
    });
  };
  return {
    connect: () => identity.connection.connect(),
    send(records) {
      if (records.length === 0) return Promise.resolve([]);
      return new Promise<RecordPosition[]>((resolve, reject) => {
        waiting.push({ records, bytes: sizeOf(records), resolve, reject });
        if (lingerMs > 0 && !sending && !lingering && waiting.length === 1) {
          lingering = true;
          setTimeout(() => {
            lingering = false;
            pump();
          }, lingerMs);
        } else {
          pump();
        }
      });
    },
    async disconnect() {
      while (inFlight.size > 0 || waiting.length > 0 || lingering) {
        await Promise.allSettled([...inFlight]);
        if (inFlight.size === 0 && !lingering) pump();
        if (lingering) await new Promise((resolve) => setTimeout(resolve, lingerMs));
      }
      identity.connection.reset();
      await identity.producer.disconnect();
    },
  };
}

interface PendingSend {
  records: readonly OutgoingRecord[];
  bytes: number;
  resolve(positions: RecordPosition[]): void;
  reject(error: unknown): void;
}

/** The sends at the head of `waiting` that fit the bounds together; at least one. */
function takeBatch(waiting: PendingSend[], maxRecords: number, maxBytes: number): PendingSend[] {
  const taken = [waiting.shift()!];
  let records = taken[0]!.records.length;
  let bytes = taken[0]!.bytes;
  while (waiting.length > 0 && records + waiting[0]!.records.length <= maxRecords && bytes + waiting[0]!.bytes <= maxBytes) {
    const next = waiting.shift()!;
    records += next.records.length;
    bytes += next.bytes;
    taken.push(next);
  }
  return taken;
}

function sizeOf(records: readonly OutgoingRecord[]): number {
  let bytes = 0;
  for (const record of records) {
    bytes += (record.key?.length ?? 0) + (record.value?.length ?? 0);
    for (const [name, value] of Object.entries(record.headers)) bytes += name.length + headerLength(value);
  }
  return bytes;
}

/** Characters or bytes: a bound, not an exact size. */
function headerLength(value: OutgoingRecord['headers'][string]): number {
  if (value === undefined) return 0;
  return Array.isArray(value) ? value.reduce((sum, part) => sum + part.length, 0) : value.length;
}
