// Over 300 lines for a reason: the transport contract is one describe block whose cases share its
// harness helpers (publishers, consumers, seeded topics); every transport runs all of them.
import { randomUUID } from 'node:crypto';
import {
  BatchHandlerError,
  partitionForKey,
  type IncomingRecord,
  type OutgoingRecord,
  type PartitionBatch,
  type PublisherTransport,
  type RecordPosition,
  type SubscribeOptions,
  type SubscriberErrorListener,
  type SubscriberTransport,
} from '@evkit/transport';
import { startKafkaProxy } from './kafka-proxy';

// One contract for every transport, in the manner of Watermill's pubsub tests: the same Jest
// cases run against the in-memory broker (unit suite) and real Kafka (integration suite), so the
// fast tests of retry and DLQ logic hold against the real thing.

/** What the contract needs from a transport under test. */
export interface ContractHarness {
  /** Creates a topic with that many partitions, ready to produce to and consume from. */
  createTopic(topic: string, partitions: number): Promise<void>;
  publisher(): PublisherTransport;
  subscriber(options: { onError: SubscriberErrorListener }): SubscriberTransport;
  /** Releases what the harness holds (admin clients, topics). */
  close?(): Promise<void>;
}

/**
 * For transports that talk to a real cluster over TCP: where it is, and a publisher bootstrapping
 * from other addresses (a proxy's). Enables the cases that put a proxy between the two.
 */
export interface NetworkHarness {
  /** The cluster's bootstrap broker, `host:port`. */
  broker: string;
  /** A publisher on these bootstrap brokers, retrying a failed request a few times, quickly. */
  publisher(brokers: string[]): PublisherTransport;
}

export interface ContractOptions {
  network?: NetworkHarness;
  /** Longest wait for one step that depends on the cluster (a join, a rebalance, a delivery). Default 5000 ms. */
  stepTimeoutMs?: number;
  /** Jest timeout of each case. Default 30000 ms. */
  testTimeoutMs?: number;
}

/** Registers the contract's `describe` block; call it at the top level of a test file. */
export function transportContract(
  name: string,
  makeHarness: () => ContractHarness | Promise<ContractHarness>,
  options: ContractOptions = {},
): void {
  const stepTimeoutMs = options.stepTimeoutMs ?? 5_000;
  const testTimeoutMs = options.testTimeoutMs ?? 30_000;

  describe(`${name} transport contract`, () => {
    let harness: ContractHarness;
    let opened: { disconnect(): Promise<void> }[] = [];
    let errors: Error[] = [];

    beforeAll(async () => {
      harness = await makeHarness();
    });
    afterAll(async () => {
      await harness?.close?.();
    });
    afterEach(async () => {
      // Subscribers first, so nothing is fetching while publishers close.
      for (const transport of opened.reverse()) await transport.disconnect();
      opened = [];
      const unexpected = errors;
      errors = [];
      expect(unexpected).toEqual([]);
    });

    const topicName = (label: string) => `evkit.contract.${label}.${randomUUID()}`;
    const groupName = () => `evkit-contract-${randomUUID()}`;

    const eventually = async (check: () => boolean, what: string): Promise<void> => {
      const deadline = Date.now() + stepTimeoutMs;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`timed out after ${stepTimeoutMs} ms waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };

    const publisher = async (): Promise<PublisherTransport> => {
      const transport = harness.publisher();
      opened.push(transport);
      await transport.connect();
      return transport;
    };

    /** A subscriber that records every batch; `handle` adds behaviour (commit, seek, throw). */
    const consume = async (
      groupId: string,
      topics: string[],
      handle: (batch: PartitionBatch, subscriber: SubscriberTransport) => Promise<void> = () => Promise.resolve(),
    ) => {
      const batches: PartitionBatch[] = [];
      const subscriber = harness.subscriber({ onError: (error) => errors.push(error) });
      opened.push(subscriber);
      await subscriber.connect();
      const run: SubscribeOptions = {
        groupId,
        topics,
        fromBeginning: true,
        handleBatch: async (batch) => {
          batches.push(batch);
          await handle(batch, subscriber);
        },
      };
      await subscriber.run(run);
      const records = () => batches.flatMap((batch) => batch.records);
      const stop = async () => {
        opened = opened.filter((t) => t !== subscriber);
        await subscriber.disconnect();
      };
      return { subscriber, batches, records, stop };
    };

    /** Keys that hash to each partition, so a test can aim at partitions. */
    const keysFor = (partitions: number): string[] => {
      const keys: string[] = [];
      for (let i = 0; keys.filter(Boolean).length < partitions; i++) {
        const partition = partitionForKey(`key-${i}`, partitions);
        keys[partition] ??= `key-${i}`;
      }
      return keys;
    };

    /**
     * A new topic holding `count` records valued '0'..; `keyOf` picks each record's key from
     * `keys`, where keys[p] hashes to partition p. Default: all on partition 0.
     */
    const seededTopic = async (label: string, partitions: number, count: number, keyOf = (_i: number, keys: string[]) => keys[0]!) => {
      const topic = topicName(label);
      await harness.createTopic(topic, partitions);
      const keys = keysFor(partitions);
      const records = Array.from({ length: count }, (_, i): OutgoingRecord => ({ topic, key: keyOf(i, keys), value: Buffer.from(`${i}`), headers: {} }));
      if (count > 0) await (await publisher()).send(records);
      return { topic, keys };
    };

    const text = (value: unknown) => (value === null || value === undefined ? value : Buffer.from(value as Buffer).toString());
    const byPosition = (records: readonly IncomingRecord[]) => new Map(records.map((r) => [`${r.topic}/${r.partition}/${r.offset}`, r]));
    const positionKey = (p: RecordPosition) => `${p.topic}/${p.partition}/${p.offset}`;

    it(
      'delivers every record once, in offset order per partition, with key, value and headers intact',
      async () => {
        const topic = topicName('roundtrip');
        await harness.createTopic(topic, 3);
        const sent: OutgoingRecord[] = Array.from({ length: 30 }, (_, i) => ({
          topic,
          key: `order-${i % 7}`,
          value: i === 29 ? null : Buffer.from(`value-${i}`),
          headers: { seq: String(i), 'ce_type': 'dev.evkit.contract', binary: Buffer.from([0, 255, i]) },
        }));
        const positions = await (await publisher()).send(sent);
        const { records } = await consume(groupName(), [topic]);
        await eventually(() => records().length >= sent.length, `${sent.length} records`);

        const received = records();
        expect(received).toHaveLength(sent.length);
        for (let partition = 0; partition < 3; partition++) {
          const offsets = received.filter((r) => r.partition === partition).map((r) => Number(r.offset));
          expect(offsets).toEqual(offsets.map((_, i) => i));
        }
        const at = byPosition(received);
        sent.forEach((record, i) => {
          const got = at.get(positionKey(positions[i]!));
          expect(got).toBeDefined();
          expect(text(got!.key)).toBe(record.key);
          expect(text(got!.value)).toBe(i === 29 ? null : `value-${i}`);
          expect(text(got!.headers.seq)).toBe(String(i));
          expect(text(got!.headers.ce_type)).toBe('dev.evkit.contract');
          expect(Buffer.from(got!.headers.binary as Buffer)).toEqual(Buffer.from([0, 255, i]));
          expect(typeof got!.timestamp).toBe('number');
        });
      },
      testTimeoutMs,
    );

    it(
      'sends a key to its murmur2 partition and keeps its order (1000 records, 20 keys)',
      async () => {
        const topic = topicName('keyed');
        await harness.createTopic(topic, 4);
        const transport = await publisher();
        const positions: RecordPosition[] = [];
        for (let chunk = 0; chunk < 10; chunk++) {
          const records = Array.from({ length: 100 }, (_, j): OutgoingRecord => {
            const i = chunk * 100 + j;
            return { topic, key: `customer-${i % 20}`, value: Buffer.from(String(i)), headers: {} };
          });
          positions.push(...(await transport.send(records)));
        }
        positions.forEach((position, i) => expect(position.partition).toBe(partitionForKey(`customer-${i % 20}`, 4)));

        const { records } = await consume(groupName(), [topic]);
        await eventually(() => records().length >= 1000, '1000 records');
        const byKey = new Map<string, { partitions: Set<number>; values: number[] }>();
        for (const record of records()) {
          const entry = byKey.get(text(record.key) as string) ?? { partitions: new Set(), values: [] };
          entry.partitions.add(record.partition);
          entry.values.push(Number(text(record.value)));
          byKey.set(text(record.key) as string, entry);
        }
        expect(byKey.size).toBe(20);
        for (const [key, { partitions, values }] of byKey) {
          expect([...partitions]).toEqual([partitionForKey(key, 4)]);
          expect(values).toEqual([...values].sort((a, b) => a - b));
          expect(values).toHaveLength(50);
        }
      },
      testTimeoutMs,
    );

    it(
      'returns, in input order, the positions the consumer sees, across topics in one send',
      async () => {
        const [first, second] = [topicName('positions-a'), topicName('positions-b')];
        await harness.createTopic(first, 2);
        await harness.createTopic(second, 3);
        const transport = await publisher();
        // Offsets of the next send then start above 0 in one partition: positions must add the base offset.
        await transport.send([{ topic: first, key: 'warm-up', value: Buffer.from('w'), headers: {} }]);
        const sent: OutgoingRecord[] = Array.from({ length: 40 }, (_, i) => ({
          topic: i % 3 === 0 ? first : second,
          key: `k-${i % 9}`,
          value: Buffer.from(`v-${i}`),
          headers: {},
        }));
        const positions = await transport.send(sent);
        expect(positions.map((p) => p.topic)).toEqual(sent.map((r) => r.topic));

        const { records } = await consume(groupName(), [first, second]);
        await eventually(() => records().length >= sent.length + 1, `${sent.length + 1} records`);
        const at = byPosition(records());
        sent.forEach((record, i) => expect(text(at.get(positionKey(positions[i]!))?.value)).toBe(text(record.value)));
      },
      testTimeoutMs,
    );

    it(
      'resumes a group after its commit: a new member starts at the committed offset',
      async () => {
        const { topic } = await seededTopic('commit', 1, 10);
        const groupId = groupName();
        let committed = false;
        const first = await consume(groupId, [topic], async (batch, subscriber) => {
          if (committed) return;
          committed = true;
          await subscriber.commit({ topic, partition: 0, offset: '6' });
        });
        await eventually(() => first.records().length >= 10, '10 records');
        await first.stop();

        const second = await consume(groupId, [topic]);
        await eventually(() => second.records().length >= 4, 'the 4 uncommitted records');
        expect(second.records().map((r) => r.offset)).toEqual(['6', '7', '8', '9']);
      },
      testTimeoutMs,
    );

    it(
      'redelivers uncommitted records to the next member after a member goes away without committing',
      async () => {
        const { topic } = await seededTopic('redeliver', 2, 8, (i, keys) => keys[i % 2]!);
        const groupId = groupName();
        const first = await consume(groupId, [topic]);
        await eventually(() => first.records().length >= 8, '8 records');
        await first.stop();

        const second = await consume(groupId, [topic]);
        await eventually(() => second.records().length >= 8, 'the same 8 records again');
        expect(second.records().map((r) => `${r.partition}/${r.offset}`).sort()).toEqual(first.records().map((r) => `${r.partition}/${r.offset}`).sort());
      },
      testTimeoutMs,
    );

    it(
      'redelivers from the offset of a seek, and the sought batch is no longer active',
      async () => {
        const { topic } = await seededTopic('seek', 1, 10);
        let sought: PartitionBatch | undefined;
        const { batches, records } = await consume(groupName(), [topic], (batch, subscriber) => {
          if (!sought && batch.records.at(-1)!.offset === '9') {
            sought = batch;
            subscriber.seek({ topic, partition: 0, offset: '3' });
            expect(batch.isActive()).toBe(false);
          }
          return Promise.resolve();
        });
        await eventually(() => records().length >= 17, 'records 0-9, then 3-9 again');
        expect(records().map((r) => Number(r.offset))).toEqual([...Array.from({ length: 10 }, (_, i) => i), 3, 4, 5, 6, 7, 8, 9]);
        expect(batches.at(-1)!.isActive()).toBe(true);
      },
      testTimeoutMs,
    );

    it(
      'redelivers what a throwing handler had not committed, and reports the failure',
      async () => {
        const { topic } = await seededTopic('throw', 1, 10);
        // The batch that ends at 9 commits 4 and throws; a broker may have split 0-9 in two batches.
        let redeliverFrom: number | undefined;
        const { records } = await consume(groupName(), [topic], async (batch, subscriber) => {
          if (redeliverFrom !== undefined || batch.records.at(-1)!.offset !== '9') return;
          redeliverFrom = Math.max(4, Number(batch.records[0]!.offset));
          await subscriber.commit({ topic, partition: 0, offset: '4' });
          throw new Error('handler bug');
        });
        await eventually(() => redeliverFrom !== undefined && records().length >= 20 - redeliverFrom, 'the uncommitted records again');
        const offsets = records().map((r) => Number(r.offset));
        expect(offsets.slice(10)).toEqual(Array.from({ length: 10 - redeliverFrom! }, (_, i) => redeliverFrom! + i));
        const reported = errors.splice(0);
        expect(reported).toHaveLength(1);
        expect(reported[0]).toBeInstanceOf(BatchHandlerError);
        expect(reported[0]).toMatchObject({ code: 'EVKIT_TRANSPORT_HANDLER_FAILED', topic, partition: 0, redeliverFrom: String(redeliverFrom) });
      },
      testTimeoutMs,
    );

    it(
      'splits partitions between members, revokes on join, ignores commits for revoked partitions and reassigns on leave',
      async () => {
        const { topic } = await seededTopic('rebalance', 2, 6, (i, keys) => keys[i % 2]!);
        const groupId = groupName();
        const a = await consume(groupId, [topic]);
        await eventually(() => new Set(a.batches.map((b) => b.partition)).size === 2, 'the first member to get both partitions');
        const firstBatches = [...a.batches];

        const b = await consume(groupId, [topic]);
        await eventually(() => b.batches.length > 0, 'the second member to get a partition');
        const moved = b.batches[0]!.partition;
        await eventually(() => a.batches.some((batch) => !firstBatches.includes(batch) && batch.partition !== moved), 'the first member to get its partition again');
        for (const batch of firstBatches) expect(batch.isActive()).toBe(false);
        expect(b.batches.every((batch) => batch.partition === moved)).toBe(true);
        expect(a.batches.filter((batch) => !firstBatches.includes(batch)).every((batch) => batch.partition !== moved)).toBe(true);

        // The revoked side commits the partition it lost: nothing may move.
        await a.subscriber.commit({ topic, partition: moved, offset: '3' });
        const afterRevokedCommit = await a.subscriber.offsets(groupId, [topic]);
        expect(afterRevokedCommit.find((o) => o.partition === moved)?.committed).toBe('-1');
        // The owner's commit counts.
        await b.subscriber.commit({ topic, partition: moved, offset: '1' });
        const afterOwnerCommit = await a.subscriber.offsets(groupId, [topic]);
        expect(afterOwnerCommit.find((o) => o.partition === moved)?.committed).toBe('1');

        const beforeLeave = a.batches.length;
        await b.stop();
        await eventually(() => a.batches.slice(beforeLeave).some((batch) => batch.partition === moved), 'the partition to come back on leave');
        const back = a.batches.slice(beforeLeave).find((batch) => batch.partition === moved)!;
        expect(back.records[0]!.offset).toBe('1');
        expect(back.isActive()).toBe(true);
      },
      testTimeoutMs,
    );

    it(
      'turns a batch in flight inactive when a rebalance begins, and still counts its commits of finished work',
      async () => {
        const { topic } = await seededTopic('revoke', 1, 3);
        const groupId = groupName();
        let sawInactive = false;
        const a = await consume(groupId, [topic], async (batch, subscriber) => {
          if (a.batches.length > 1) return;
          // A long handler that keeps the membership alive until it is told to wrap up.
          const deadline = Date.now() + stepTimeoutMs;
          while (batch.isActive() && Date.now() < deadline) {
            await batch.heartbeat();
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
          sawInactive = !batch.isActive();
          await subscriber.commit({ topic, partition: 0, offset: '1' });
        });
        await eventually(() => a.batches.length === 1, 'the first batch');

        const b = await consume(groupId, [topic]);
        expect(sawInactive).toBe(true);
        await eventually(() => a.batches.length + b.batches.length > 1, 'the partition to be handed out again');
        const again = [...a.batches.slice(1), ...b.batches][0]!;
        expect(again.records[0]!.offset).toBe('1');
        expect((await b.subscriber.offsets(groupId, [topic]))[0]!.committed).toBe('1');
      },
      testTimeoutMs,
    );

    it(
      'stops delivering a paused partition until it is resumed',
      async () => {
        const { topic, keys } = await seededTopic('pause', 2, 0);
        const transport = await publisher();
        const { subscriber, records } = await consume(groupName(), [topic]);
        subscriber.pause([{ topic, partition: 0 }]);
        await transport.send(Array.from({ length: 6 }, (_, i) => ({ topic, key: keys[i % 2]!, value: Buffer.from(`${i}`), headers: {} })));
        await eventually(() => records().filter((r) => r.partition === 1).length >= 3, 'the unpaused partition');
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(records().filter((r) => r.partition === 0)).toEqual([]);

        subscriber.resume([{ topic, partition: 0 }]);
        await eventually(() => records().filter((r) => r.partition === 0).length >= 3, 'the resumed partition');
      },
      testTimeoutMs,
    );

    it(
      'reports committed offsets and high watermarks',
      async () => {
        const { topic } = await seededTopic('offsets', 2, 8, (i, keys) => keys[i < 5 ? 0 : 1]!);
        const groupId = groupName();
        const { subscriber, records } = await consume(groupId, [topic]);
        expect(sortByPartition(await subscriber.offsets(groupId, [topic]))).toEqual([
          { topic, partition: 0, committed: '-1', highWatermark: '5' },
          { topic, partition: 1, committed: '-1', highWatermark: '3' },
        ]);
        await eventually(() => records().length >= 8, '8 records');
        await subscriber.commit({ topic, partition: 0, offset: '2' });
        expect(sortByPartition(await subscriber.offsets(groupId, [topic]))).toEqual([
          { topic, partition: 0, committed: '2', highWatermark: '5' },
          { topic, partition: 1, committed: '-1', highWatermark: '3' },
        ]);
      },
      testTimeoutMs,
    );

    // B1 in docs/reliability.md: the broker wrote a batch, its answer never reached the client.
    // An idempotent producer that then gives that batch's sequence number to another batch has
    // the broker take the other batch for a retry of the first: acknowledged, and lost.
    const network = options.network;
    (network ? it : it.skip)(
      'after a send whose answer was lost, acknowledges every later record at the offset that holds it',
      async () => {
        const proxy = await startKafkaProxy(network!.broker);
        try {
          const topic = topicName('lost-answer');
          await harness.createTopic(topic, 1);
          const transport = network!.publisher(proxy.brokers);
          opened.push(transport);
          const record = (value: string): OutgoingRecord => ({ topic, key: 'k', value: Buffer.from(value), headers: {} });
          const acknowledged = new Map<string, RecordPosition>();
          const send = async (...values: string[]) => {
            const positions = await transport.send(values.map(record));
            values.forEach((value, i) => acknowledged.set(value, positions[i]!));
          };

          await send('before');
          proxy.loseProduceResponses(true);
          // Sent at once, as concurrent publishers do: a publisher may put them in one request.
          const unknown = ['unknown-0', 'unknown-1', 'unknown-2'];
          const failures = await Promise.all(unknown.map((value) => transport.send([record(value)]).then(() => 'acknowledged', (error: unknown) => error)));
          for (const failure of failures) expect(failure).toMatchObject({ code: 'EVKIT_TRANSPORT_SEND_FAILED', retriable: true, outcomeUnknown: true });
          expect(proxy.lostResponses).toBeGreaterThan(0);
          proxy.loseProduceResponses(false);
          await send('after-1');
          const concurrent = Array.from({ length: 20 }, (_, i) => `after-c${i}`);
          await Promise.all(concurrent.map((value) => send(value)));
          await send('after-2', 'after-3');

          const { records } = await consume(groupName(), [topic]);
          await eventually(() => records().some((r) => text(r.value) === 'after-3'), 'the last record');
          // The lost answers' batches were written once each (the client's retries carried their
          // sequence numbers, so the broker dropped the copies); every acknowledged record is
          // where it was said to be.
          expect(records().map((r) => text(r.value))).toEqual(['before', ...unknown, 'after-1', ...concurrent, 'after-2', 'after-3']);
          const at = byPosition(records());
          for (const [value, position] of acknowledged) expect(text(at.get(positionKey(position))?.value)).toBe(value);
        } finally {
          await proxy.close();
        }
      },
      testTimeoutMs,
    );
  });
}

function sortByPartition<T extends { partition: number }>(offsets: T[]): T[] {
  return [...offsets].sort((a, b) => a.partition - b.partition);
}
