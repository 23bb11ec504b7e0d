import { Kafka, logLevel, type Message, type Producer, type ProducerBatch, type ProducerConfig } from 'kafkajs';
import { partitionForKey, TransportConnectError, TransportSendError, type OutgoingRecord } from '@evkit/transport';
import { createKafkaJsPublisher, DEFAULT_SEND_RETRY } from './publisher';

// A fake producer that partitions like KafkaJS (through the partitioner the publisher installs)
// and answers with one base offset per partition, as a produce response does.

function fakeKafka(partitions: number, baseOffset: (topic: string, partition: number) => number | bigint) {
  const kafka = new Kafka({ brokers: ['127.0.0.1:1'], logLevel: logLevel.NOTHING });
  let config: ProducerConfig | undefined;
  const producer = {
    connect: jest.fn(() => Promise.resolve()),
    disconnect: jest.fn(() => Promise.resolve()),
    sendBatch: jest.fn(({ topicMessages = [] }: ProducerBatch) => {
      const partitioner = config!.createPartitioner!();
      const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 1, partitionErrorCode: 0, replicas: [1], isr: [1] }));
      const touched = new Set<string>();
      for (const { topic, messages } of topicMessages) {
        for (const message of messages) touched.add(`${topic}|${partitioner({ topic, partitionMetadata, message })}`);
      }
      return Promise.resolve(
        [...touched].map((entry) => {
          const [topicName, partition] = entry.split('|') as [string, string];
          return { topicName, partition: Number(partition), errorCode: 0, baseOffset: String(baseOffset(topicName, Number(partition))) };
        }),
      );
    }),
  };
  jest.spyOn(kafka, 'producer').mockImplementation((producerConfig) => {
    config = producerConfig;
    return producer as unknown as Producer;
  });
  return { kafka, producer, config: () => config! };
}

const record = (topic: string, key: string | null, value: string): OutgoingRecord => ({ topic, key, value: Buffer.from(value), headers: {} });

/** Makes the fake's sendBatch wait until `release` is called: a request in flight. */
function holdRequests(fake: ReturnType<typeof fakeKafka>) {
  const answer = fake.producer.sendBatch.getMockImplementation()!;
  const held: (() => void)[] = [];
  fake.producer.sendBatch.mockImplementation((batch: ProducerBatch) => new Promise((resolve, reject) => held.push(() => void answer(batch).then(resolve, reject))));
  return {
    held: () => held.length,
    release: async () => {
      held.shift()!();
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

const sentValues = (fake: ReturnType<typeof fakeKafka>) =>
  fake.producer.sendBatch.mock.calls.map(([batch]) => batch.topicMessages!.flatMap((t) => t.messages.map((m: Message) => String(m.value))));

describe('createKafkaJsPublisher', () => {
  it('configures an idempotent acks=all producer with one request in flight and bounded retries', async () => {
    const fake = fakeKafka(3, () => 0);
    const publisher = createKafkaJsPublisher({ kafka: fake.kafka });
    expect(fake.config()).toMatchObject({ idempotent: true, maxInFlightRequests: 1, retry: DEFAULT_SEND_RETRY });
    await publisher.send([record('t', 'k', 'v')]);
    expect(fake.producer.sendBatch).toHaveBeenCalledWith(expect.objectContaining({ acks: -1 }));
  });

  it('connects on the first send, groups records by topic in one request and maps offsets back to input order', async () => {
    const fake = fakeKafka(2, (topic, partition) => (topic === 'a' ? 100 : 0) + partition * 10);
    const publisher = createKafkaJsPublisher({ kafka: fake.kafka });
    // customer-0 and customer-3 hash to different partitions of 2 (checked against murmur2).
    const records = [record('a', 'customer-0', '1'), record('b', 'customer-0', '2'), record('a', 'customer-3', '3'), record('a', 'customer-0', '4'), record('b', 'customer-0', '5')];
    const positions = await publisher.send(records);
    expect(fake.producer.connect).toHaveBeenCalledTimes(1);
    expect(fake.producer.sendBatch).toHaveBeenCalledTimes(1);
    const { topicMessages } = fake.producer.sendBatch.mock.calls[0]![0];
    expect(topicMessages!.map((t) => [t.topic, t.messages.map((m: Message) => String(m.value))])).toEqual([
      ['a', ['1', '3', '4']],
      ['b', ['2', '5']],
    ]);
    const p0 = positions[0]!.partition;
    const p3 = positions[2]!.partition;
    expect(p0).not.toBe(p3);
    expect(positions).toEqual([
      { topic: 'a', partition: p0, offset: String(100 + p0 * 10) },
      { topic: 'b', partition: p0, offset: String(p0 * 10) },
      { topic: 'a', partition: p3, offset: String(100 + p3 * 10) },
      { topic: 'a', partition: p0, offset: String(100 + p0 * 10 + 1) },
      { topic: 'b', partition: p0, offset: String(p0 * 10 + 1) },
    ]);
  });

  it('keeps 64-bit offsets exact', async () => {
    const fake = fakeKafka(1, () => 9007199254740993n);
    const positions = await createKafkaJsPublisher({ kafka: fake.kafka }).send([record('t', 'k', '1'), record('t', 'k', '2')]);
    expect(positions.map((p) => p.offset)).toEqual(['9007199254740993', '9007199254740994']);
  });

  it('turns KafkaJS failures into TransportSendError with retriable from the cause', async () => {
    const fake = fakeKafka(1, () => 0);
    const publisher = createKafkaJsPublisher({ kafka: fake.kafka });
    const exhausted = Object.assign(new Error('retries exhausted'), { name: 'KafkaJSNumberOfRetriesExceeded', retriable: false });
    fake.producer.sendBatch.mockRejectedValueOnce(exhausted);
    await expect(publisher.send([record('t', 'k', 'v')])).rejects.toMatchObject({ constructor: TransportSendError, retriable: true, cause: exhausted });
    const tooLarge = Object.assign(new Error('too large'), { name: 'KafkaJSProtocolError', type: 'MESSAGE_TOO_LARGE', retriable: false });
    fake.producer.sendBatch.mockRejectedValueOnce(tooLarge);
    await expect(publisher.send([record('t', 'k', 'v')])).rejects.toMatchObject({ constructor: TransportSendError, retriable: false });
  });

  it('after a send with an unknown outcome, sends nothing more under that producer id (a new producer, connected first)', async () => {
    const fake = fakeKafka(1, () => 7);
    const publisher = createKafkaJsPublisher({ kafka: fake.kafka });
    const producerFactory = jest.spyOn(fake.kafka, 'producer');
    await publisher.send([record('t', 'k', 'a')]);
    expect(producerFactory).toHaveBeenCalledTimes(1);
    const lost = Object.assign(new Error('Connection closed'), { name: 'KafkaJSConnectionClosedError', retriable: true });
    fake.producer.sendBatch.mockRejectedValueOnce(lost);
    await expect(publisher.send([record('t', 'k', 'b')])).rejects.toMatchObject({
      constructor: TransportSendError,
      retriable: true,
      outcomeUnknown: true,
      message: expect.stringContaining('may or may not be on the topic') as unknown,
    });
    expect(producerFactory).toHaveBeenCalledTimes(1); // replaced lazily, by the next send
    await publisher.send([record('t', 'k', 'c')]);
    expect(producerFactory).toHaveBeenCalledTimes(2);
    // The abandoned producer was closed, and the new one connected (a new producer id), before
    // the next sendBatch.
    const [, secondSend] = fake.producer.sendBatch.mock.invocationCallOrder.slice(-2);
    expect(fake.producer.disconnect.mock.invocationCallOrder[0]).toBeLessThan(secondSend!);
    expect(fake.producer.connect.mock.invocationCallOrder.at(-1)).toBeLessThan(secondSend!);
    expect(fake.producer.connect).toHaveBeenCalledTimes(2);
  });

  it('keeps a keyless record on the partition first chosen for it when KafkaJS retries', () => {
    const fake = fakeKafka(4, () => 0);
    createKafkaJsPublisher({ kafka: fake.kafka });
    const partitioner = fake.config().createPartitioner!();
    const partitionMetadata = Array.from({ length: 4 }, (_, partitionId) => ({ partitionId, leader: 1, partitionErrorCode: 0, replicas: [1], isr: [1] }));
    const message: Message = { key: null, value: Buffer.from('v') };
    const first = partitioner({ topic: 't', partitionMetadata, message });
    // KafkaJS's keyless partitioning moves on for each call; a retry must not.
    for (let attempt = 0; attempt < 8; attempt++) expect(partitioner({ topic: 't', partitionMetadata, message })).toBe(first);
    const others = Array.from({ length: 8 }, () => partitioner({ topic: 't', partitionMetadata, message: { key: null, value: Buffer.from('v') } }));
    expect(new Set(others).size).toBeGreaterThan(1);
  });

  it('treats an acknowledgement without an offset for a partition as an unknown outcome: retriable, and a new producer id next', async () => {
    const fake = fakeKafka(2, () => 0);
    const publisher = createKafkaJsPublisher({ kafka: fake.kafka });
    // A leader moved mid-send: KafkaJS resolved with the other partition's answer only.
    fake.producer.sendBatch.mockResolvedValueOnce([{ topicName: 't', partition: 5, errorCode: 0, baseOffset: '0' }] as never);
    await expect(publisher.send([record('t', 'customer-0', 'a'), record('t', 'customer-3', 'b')])).rejects.toMatchObject({
      constructor: TransportSendError,
      retriable: true,
      outcomeUnknown: true,
    });
    await publisher.send([record('t', 'k', 'c')]);
    expect(jest.spyOn(fake.kafka, 'producer')).toHaveBeenCalledTimes(2);
  });

  it('says nothing was sent when the producer could not connect', async () => {
    const fake = fakeKafka(1, () => 0);
    const refused = Object.assign(new Error('Connection error: connect ECONNREFUSED'), { name: 'KafkaJSConnectionError', retriable: true });
    fake.producer.connect.mockRejectedValueOnce(refused);
    const publisher = createKafkaJsPublisher({ kafka: fake.kafka });
    await expect(publisher.send([record('t', 'k', 'v')])).rejects.toMatchObject({ outcomeUnknown: false, retriable: true });
    expect(fake.producer.sendBatch).not.toHaveBeenCalled();
  });

  it('replaces the producer after a failed connect, whose client may be left half-connected (F9)', async () => {
    const fake = fakeKafka(1, () => 0);
    const timedOut = Object.assign(new Error('Request ApiVersions(key: 18, version: 2) timed out'), { name: 'KafkaJSRequestTimeoutError', retriable: true });
    fake.producer.connect.mockRejectedValueOnce(timedOut).mockRejectedValueOnce(timedOut);
    const publisher = createKafkaJsPublisher({ kafka: fake.kafka });
    const producers = jest.spyOn(fake.kafka, 'producer');
    await expect(publisher.connect()).rejects.toMatchObject({ constructor: TransportConnectError });
    await expect(publisher.send([record('t', 'k', 'a')])).rejects.toMatchObject({ constructor: TransportSendError, outcomeUnknown: false });
    expect(producers).toHaveBeenCalledTimes(2);
    await expect(publisher.send([record('t', 'k', 'b')])).resolves.toEqual([{ topic: 't', partition: 0, offset: '0' }]);
    expect(producers).toHaveBeenCalledTimes(3);
    expect(fake.producer.disconnect).toHaveBeenCalledTimes(2); // each abandoned one
  });

  it('reports a failed connection as TransportConnectError from connect and TransportSendError from send', async () => {
    const fake = fakeKafka(1, () => 0);
    const refused = Object.assign(new Error('Connection error: connect ECONNREFUSED'), { name: 'KafkaJSConnectionError', retriable: true });
    fake.producer.connect.mockRejectedValueOnce(refused).mockRejectedValueOnce(refused);
    const publisher = createKafkaJsPublisher({ kafka: fake.kafka });
    await expect(publisher.connect()).rejects.toMatchObject({ constructor: TransportConnectError, retriable: true });
    await expect(publisher.send([record('t', 'k', 'v')])).rejects.toMatchObject({
      constructor: TransportSendError,
      retriable: true,
      cause: expect.any(TransportConnectError) as unknown,
    });
  });

  describe('coalescing', () => {
    it('sends what arrives while a request is in flight as one request, each caller getting its own positions', async () => {
      const fake = fakeKafka(1, () => 0);
      const requests = holdRequests(fake);
      const publisher = createKafkaJsPublisher({ kafka: fake.kafka });
      const first = publisher.send([record('t', 'k', '0')]);
      await new Promise((resolve) => setImmediate(resolve));
      const rest = Array.from({ length: 99 }, (_, i) => publisher.send([record('t', 'k', String(i + 1))]));
      expect(requests.held()).toBe(1);
      await requests.release();
      await requests.release();
      expect(sentValues(fake)).toEqual([['0'], Array.from({ length: 99 }, (_, i) => String(i + 1))]);
      expect(await first).toEqual([{ topic: 't', partition: 0, offset: '0' }]);
      // The second request's base offset is 0 in this fake: caller i got the record at index i.
      const positions = await Promise.all(rest);
      positions.forEach((p, i) => expect(p).toEqual([{ topic: 't', partition: 0, offset: String(i) }]));
    });

    it('keeps each request within maxBatchRecords and maxBatchBytes, never splitting one caller', async () => {
      const fake = fakeKafka(1, () => 0);
      const requests = holdRequests(fake);
      const publisher = createKafkaJsPublisher({ kafka: fake.kafka, maxBatchRecords: 3, maxBatchBytes: 1000 });
      const sends = [publisher.send([record('t', 'k', 'a')])];
      await new Promise((resolve) => setImmediate(resolve));
      sends.push(publisher.send([record('t', 'k', 'b'), record('t', 'k', 'c')]));
      sends.push(publisher.send([record('t', 'k', 'd'), record('t', 'k', 'e')])); // would make 4
      sends.push(publisher.send([record('t', 'k', 'x'.repeat(2000))])); // over the bytes alone
      sends.push(publisher.send([record('t', 'k', 'f')]));
      while (requests.held() > 0) await requests.release();
      await Promise.all(sends);
      expect(sentValues(fake)).toEqual([['a'], ['b', 'c'], ['d', 'e'], ['x'.repeat(2000)], ['f']]);
    });

    it('fails exactly the callers of a failed request; the next request goes out under a new producer id', async () => {
      const fake = fakeKafka(1, () => 0);
      const requests = holdRequests(fake);
      const publisher = createKafkaJsPublisher({ kafka: fake.kafka });
      const first = publisher.send([record('t', 'k', '0')]);
      await new Promise((resolve) => setImmediate(resolve));
      const lost = Object.assign(new Error('Request timed out'), { name: 'KafkaJSRequestTimeoutError', retriable: true });
      fake.producer.sendBatch.mockImplementationOnce(() => Promise.reject(lost));
      // Settled into values at once: a rejection nobody listens to yet fails the test.
      const failing = [publisher.send([record('t', 'k', '1')]), publisher.send([record('t', 'k', '2')])].map((send) => send.then(() => 'resolved', (error: unknown) => error));
      await requests.release();
      const errors = await Promise.all(failing);
      const after = publisher.send([record('t', 'k', '3')]);
      await new Promise((resolve) => setImmediate(resolve));
      await requests.release();
      await expect(first).resolves.toHaveLength(1);
      for (const error of errors) expect(error).toMatchObject({ constructor: TransportSendError, cause: lost, outcomeUnknown: true });
      await expect(after).resolves.toHaveLength(1);
      expect(jest.spyOn(fake.kafka, 'producer')).toHaveBeenCalledTimes(2);
    });

    it('fails only the callers of a partition a coalesced request has no offset for (F8)', async () => {
      // Until told otherwise, a leader moved mid-request: KafkaJS resolves without partition 1's offset.
      let leaderMoved = true;
      const fake = fakeKafka(2, (_, partition) => (partition === 1 && leaderMoved ? -1 : 7));
      const requests = holdRequests(fake);
      const publisher = createKafkaJsPublisher({ kafka: fake.kafka });
      const [onZero, onOne] = [0, 1].map((p) => Array.from({ length: 20 }, (_, i) => `key-${i}`).find((k) => partitionForKey(k, 2) === p)!);
      const first = publisher.send([record('t', onZero!, '0')]);
      await new Promise((resolve) => setImmediate(resolve));
      const joined = [publisher.send([record('t', onZero!, '1')]), publisher.send([record('t', onOne!, '2')]), publisher.send([record('t', onZero!, '3')])];
      const settled = Promise.allSettled(joined);
      await requests.release(); // the first request
      await requests.release(); // the three joined ones, together
      expect(sentValues(fake)).toEqual([['0'], ['1', '2', '3']]);
      const [a, b, c] = await settled;
      leaderMoved = false;
      await expect(first).resolves.toEqual([{ topic: 't', partition: 0, offset: '7' }]);
      expect(a).toEqual({ status: 'fulfilled', value: [{ topic: 't', partition: 0, offset: '7' }] });
      expect(b).toMatchObject({ status: 'rejected', reason: { constructor: TransportSendError, outcomeUnknown: true, retriable: true } });
      expect(c).toEqual({ status: 'fulfilled', value: [{ topic: 't', partition: 0, offset: '8' }] });
      const after = publisher.send([record('t', onOne!, '4')]);
      await new Promise((resolve) => setImmediate(resolve));
      await requests.release();
      await expect(after).resolves.toEqual([{ topic: 't', partition: 1, offset: '7' }]);
      expect(jest.spyOn(fake.kafka, 'producer')).toHaveBeenCalledTimes(2);
    });

    it('with lingerMs, waits for others to join a send to an idle publisher', async () => {
      const fake = fakeKafka(1, () => 0);
      const publisher = createKafkaJsPublisher({ kafka: fake.kafka, lingerMs: 20 });
      const sends = [publisher.send([record('t', 'k', 'a')]), publisher.send([record('t', 'k', 'b')])];
      await new Promise((resolve) => setTimeout(resolve, 5));
      sends.push(publisher.send([record('t', 'k', 'c')]));
      await Promise.all(sends);
      expect(sentValues(fake)).toEqual([['a', 'b', 'c']]);
    });

    it('refuses unusable bounds', () => {
      const fake = fakeKafka(1, () => 0);
      expect(() => createKafkaJsPublisher({ kafka: fake.kafka, maxBatchRecords: 0 })).toThrow(/maxBatchRecords/);
      expect(() => createKafkaJsPublisher({ kafka: fake.kafka, maxBatchBytes: 1.5 })).toThrow(/maxBatchBytes/);
      expect(() => createKafkaJsPublisher({ kafka: fake.kafka, lingerMs: -1 })).toThrow(/lingerMs/);
    });
  });

  it('waits for sends in flight before disconnecting', async () => {
    const fake = fakeKafka(1, () => 0);
    const publisher = createKafkaJsPublisher({ kafka: fake.kafka });
    const sending = publisher.send([record('t', 'k', 'v')]);
    await publisher.disconnect();
    expect(fake.producer.disconnect).toHaveBeenCalled();
    await expect(sending).resolves.toHaveLength(1);
    expect(fake.producer.disconnect.mock.invocationCallOrder[0]).toBeGreaterThan(fake.producer.sendBatch.mock.invocationCallOrder[0]!);
  });
});
