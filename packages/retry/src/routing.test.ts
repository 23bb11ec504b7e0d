import { createConsumer } from '@evkit/consumer';
import { EvkitError, markBatchFailure } from '@evkit/errors';
import { createMemoryIdempotencyStore } from '@evkit/idempotency';
import { TransportSendError } from '@evkit/transport';
import { FailureRoutingError, NonRetriableError } from './errors';
import { DLT_HEADERS, readInt32, readInt64, RETRY_HEADERS, ROUTING_HEADROOM_BYTES } from './headers';
import { createReplayer } from './replay';
import { DLQ, dlqRecords, GROUP, settle, setup, TOPIC, TYPE } from './routing.test-support';

describe('non-blocking retries', () => {
  it('succeeds on the third attempt through the retry topics, keeping key, value and headers', async () => {
    const { broker, publish, consumerWith } = setup();
    await publish(['o-1']);
    const attempts: { topic: string; attempt: string | undefined }[] = [];
    let firstFailureAt = 0;
    const consumer = consumerWith(async (_event, context) => {
      attempts.push({ topic: context.record.topic, attempt: context.record.headers[RETRY_HEADERS.attempt]?.toString() });
      if (attempts.length === 1) firstFailureAt = Date.now();
      if (attempts.length < 3) throw new Error('carrier API timeout');
    });
    await consumer.start();
    await settle(broker, () => attempts.length === 3);
    await consumer.stop();
    expect(attempts).toEqual([
      { topic: TOPIC, attempt: undefined },
      { topic: `${TOPIC}.${GROUP}.retry.10`, attempt: '1' },
      { topic: `${TOPIC}.${GROUP}.retry.20`, attempt: '2' },
    ]);
    const [original] = broker.topic(TOPIC).records();
    const [retried] = broker.topic(`${TOPIC}.${GROUP}.retry.10`).records();
    expect(retried!.key).toEqual(original!.key);
    expect(retried!.value).toEqual(original!.value);
    expect(retried!.headers.ce_id).toEqual(original!.headers.ce_id);
    // The delay counts from the failure (jitter is 0 here), not from the retry record's broker timestamp.
    expect(Number(retried!.headers[RETRY_HEADERS.notBefore]!.toString())).toBeGreaterThanOrEqual(firstFailureAt + 10);
    expect(dlqRecords(broker)).toHaveLength(0);
  });

  it('dead-letters a key that always fails, with diagnostic headers, while other keys go on', async () => {
    const { broker, publish, consumerWith } = setup();
    await publish(['bad', 'good-1', 'good-2']);
    const handled: string[] = [];
    let badAttempts = 0;
    const consumer = consumerWith(async (event) => {
      if (event.data.orderId === 'bad') {
        badAttempts += 1;
        throw new Error('connect to postgres://svc:hunter2@db:5432/x failed; password=hunter2');
      }
      handled.push(event.data.orderId);
    });
    await consumer.start();
    await settle(broker, () => dlqRecords(broker).length === 1);
    await consumer.stop();
    expect(handled.sort()).toEqual(['good-1', 'good-2']);
    expect(badAttempts).toBe(3);
    const [dead] = dlqRecords(broker);
    const original = broker.topic(TOPIC).records().find((r) => r.key?.toString() === 'bad')!;
    expect(dead!.key).toEqual(original.key);
    expect(dead!.value).toEqual(original.value);
    expect(dead!.headers[DLT_HEADERS.originalTopic]!.toString()).toBe(TOPIC);
    expect(readInt32(dead!.headers, DLT_HEADERS.originalPartition)).toBe(original.partition);
    expect(readInt64(dead!.headers, DLT_HEADERS.originalOffset)).toBe(BigInt(original.offset));
    expect(dead!.headers[DLT_HEADERS.originalConsumerGroup]!.toString()).toBe(GROUP);
    expect(dead!.headers[DLT_HEADERS.attempts]!.toString()).toBe('3');
    expect(dead!.headers[DLT_HEADERS.handler]!.toString()).toBe(TYPE);
    expect(dead!.headers[DLT_HEADERS.exceptionClass]!.toString()).toBe('Error');
    const diagnostics = Object.values(dead!.headers).map(String).join('\n');
    expect(diagnostics).not.toContain('hunter2');
    expect(dead!.headers[DLT_HEADERS.exceptionMessage]!.toString()).toContain('postgres://***:***@db');
    expect(Object.keys(dead!.headers).filter((h) => h.startsWith('evkit_retry-'))).toEqual([]);
  });

  it('sends a non-retriable failure straight to the dead-letter topic', async () => {
    const { broker, publish, consumerWith } = setup();
    await publish(['o-1']);
    let calls = 0;
    const consumer = consumerWith(async () => {
      calls += 1;
      throw new NonRetriableError('order has no address');
    });
    await consumer.start();
    await settle(broker, () => dlqRecords(broker).length === 1);
    await consumer.stop();
    expect(calls).toBe(1);
    expect(dlqRecords(broker)[0]!.headers[DLT_HEADERS.errorCode]!.toString()).toBe('EVKIT_RETRY_NON_RETRIABLE');
  });

  it('dead-letters a record that cannot be decoded byte-for-byte, and handles the records behind it', async () => {
    const { broker, publish, consumerWith } = setup();
    // A proper CloudEvent whose value is not Avro (a JSON producer wrote to the topic).
    await publish(['o-1']);
    const [valid] = broker.topic(TOPIC).records();
    const poison = { topic: TOPIC, key: 'o-1', value: Buffer.from('{"not":"avro"}'), headers: { ...valid!.headers, 'x-trace': Buffer.from('abc') } };
    await broker.publisher().send([poison]);
    await publish(['o-1']);
    const handled: string[] = [];
    const consumer = consumerWith(async (event) => void handled.push(event.id));
    await consumer.start();
    await settle(broker, () => handled.length === 2 && dlqRecords(broker).length === 1);
    await consumer.stop();
    const [dead] = dlqRecords(broker);
    expect(dead!.value).toEqual(poison.value);
    expect(dead!.key!.toString()).toBe('o-1');
    expect(dead!.headers['x-trace']!.toString()).toBe('abc');
    expect(dead!.headers[DLT_HEADERS.errorCode]!.toString()).toBe('EVKIT_CODEC_BAD_MAGIC_BYTE');
    expect(dead!.headers[DLT_HEADERS.handler]!.toString()).toBe('(decode)');
  });

  it.each([
    { failure: new Error('dlq broker down'), retriable: true },
    // What the KafkaJS publisher raises for MESSAGE_TOO_LARGE: the topic will refuse it again.
    { failure: new TransportSendError('sending 1 record(s) failed: The request included a message larger than the max message size the server will accept', { retriable: false, outcomeUnknown: false }), retriable: false },
  ])('does not commit the source record when the dead-letter topic cannot be written, and raises it ($failure.message)', async ({ failure, retriable }) => {
    const { broker, publish, consumerWith } = setup({ maxAttempts: 1 });
    await publish(['o-1']);
    const errors: unknown[] = [];
    let calls = 0;
    broker.failNextSend(failure);
    const consumer = consumerWith(async () => {
      calls += 1;
      throw new Error('boom');
    }, { onError: (error) => errors.push(error) });
    await consumer.start();
    await settle(broker, () => dlqRecords(broker).length === 1);
    await consumer.stop();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(FailureRoutingError);
    expect(errors[0]).toMatchObject({ code: 'EVKIT_RETRY_ROUTING_FAILED', retriable });
    expect((errors[0] as FailureRoutingError).cause).toBe(failure);
    const [source] = broker.topic(TOPIC).records();
    expect((errors[0] as Error).message).toBe(
      `could not write ${TOPIC}[${source!.partition}]@${source!.offset} to dead-letter topic ${DLQ}; the source offset stays uncommitted: ${failure.message}`,
    );
    expect(calls).toBe(2); // redelivered after the failed dead-lettering, then dead-lettered
  });
});

describe('as a listed middleware', () => {
  it('has the consumer read the retry tiers and create them and the dead-letter topic sized like their source topic', async () => {
    const { broker, routing, codec } = setup();
    const transport = broker.subscriber();
    const ensured = jest.spyOn(transport, 'ensureTopics');
    const runs = jest.spyOn(transport, 'run');
    const sized = (topic: string) => ({ topic, sizedLike: { topic: TOPIC, headroomBytes: ROUTING_HEADROOM_BYTES } });
    const consumer = createConsumer({ groupId: GROUP, topics: [TOPIC], codec, transport, ensureTopics: [TOPIC], middleware: [routing.middleware] }).on(TYPE, async () => undefined);
    await consumer.start();
    await consumer.stop();
    expect(ensured).toHaveBeenCalledWith([TOPIC, sized(`${TOPIC}.${GROUP}.retry.10`), sized(`${TOPIC}.${GROUP}.retry.20`), sized(`${TOPIC}.${GROUP}.replay`), sized(DLQ)]);
    expect(runs.mock.calls[0]![0].topics).toEqual([TOPIC, `${TOPIC}.${GROUP}.retry.10`, `${TOPIC}.${GROUP}.retry.20`, `${TOPIC}.${GROUP}.replay`]);
    expect(broker.topic(DLQ).partitions).toBe(2);
    expect(broker.topic(`${TOPIC}.${GROUP}.retry.20`).partitions).toBe(2);
  });

  it('refuses a consumer of another group', () => {
    const { broker, routing, codec } = setup();
    expect(() => createConsumer({ groupId: 'other', topics: [TOPIC], codec, transport: broker.subscriber(), middleware: [routing.middleware] })).toThrow(
      /failure routing's group shipping is not the consumer's group other/,
    );
  });
});

describe('blocking retries', () => {
  it('retries in place keeping per-key order, then dead-letters and moves on', async () => {
    const { broker, publish, consumerWith } = setup({ mode: 'blocking', delaysMs: [1], maxAttempts: 3 });
    await publish(['k', 'k', 'k']);
    const seen: string[] = [];
    let failures = 0;
    const records = broker.topic(TOPIC).records();
    const secondId = records[1]!.headers.ce_id!.toString();
    const consumer = consumerWith(async (event) => {
      if (event.id === secondId && failures < 2) {
        failures += 1;
        throw new Error('flaky');
      }
      seen.push(event.id);
    });
    await consumer.start();
    await settle(broker, () => seen.length === 3);
    await consumer.stop();
    expect(seen).toEqual(records.map((r) => r.headers.ce_id!.toString()));
    expect(broker.topic(TOPIC).records()).toHaveLength(3);
    expect(dlqRecords(broker)).toHaveLength(0);
  });

  it('with whenExhausted: stop, stalls the partition instead of dead-lettering', async () => {
    const { broker, publish, consumerWith } = setup({ mode: 'blocking', delaysMs: [1], maxAttempts: 2, whenExhausted: 'stop' });
    await publish(['k']);
    const errors: unknown[] = [];
    const consumer = consumerWith(async () => {
      throw new Error('down');
    }, { onError: (e) => errors.push(e) });
    await consumer.start();
    await settle(undefined, () => errors.length >= 2); // the partition stays stuck: never idle
    await consumer.stop();
    expect(dlqRecords(broker)).toHaveLength(0);
    expect((await consumer.lag()).reduce((s, p) => s + p.offsetLag, 0)).toBe(1);
  });
});

describe("a failure of the record's batch, not of the record", () => {
  it.each(['non-blocking', 'blocking'] as const)(
    '%s: is neither an attempt nor routed: the record is redelivered and handled, nothing is retried or dead-lettered',
    async (mode) => {
      const { broker, publish, consumerWith } = setup({ mode, delaysMs: [1], maxAttempts: 2 });
      await publish(['k']);
      let calls = 0;
      const consumer = consumerWith(
        async () => {
          calls += 1;
          // Twice, as a broken batch transaction fails every event after it until redelivery.
          if (calls <= 2) throw markBatchFailure(new Error('the batch transaction was lost'));
        },
        { failureBackoff: { initialMs: 1, maxMs: 1 } },
      );
      await consumer.start();
      await settle(broker, () => calls === 3);
      await consumer.stop();
      expect(calls).toBe(3);
      expect(dlqRecords(broker)).toHaveLength(0);
      if (mode === 'non-blocking') expect(broker.topic(`${TOPIC}.${GROUP}.retry.1`).records()).toHaveLength(0);
    },
  );
});

describe('replay', () => {
  it('after a fix, replays each dead-lettered event once; a second replay adds no side effect', async () => {
    const { broker, publish, consumerWith } = setup({ maxAttempts: 1 });
    await publish(['o-1', 'o-2', 'o-3']);
    const store = createMemoryIdempotencyStore();
    let fixed = false;
    const effects: string[] = [];
    const consumer = consumerWith(async (event) => {
      if (!fixed && event.data.orderId !== 'o-3') throw new Error('bug in address parser');
      effects.push(event.data.orderId);
    }, { idempotency: store });
    await consumer.start();
    await settle(broker, () => dlqRecords(broker).length === 2);

    const replayer = createReplayer({ publisher: broker.publisher(), subscriber: () => broker.subscriber() });
    const listed = await replayer.list(DLQ);
    expect(listed.map((e) => e.key).sort()).toEqual(['o-1', 'o-2']);
    expect(listed[0]).toMatchObject({ eventType: TYPE, consumerGroup: GROUP, handler: TYPE, original: { topic: TOPIC }, attempts: 1 });

    const dry = await replayer.replay(DLQ, {}, { dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, matched: 2, replayed: 0 });
    expect(broker.topic(TOPIC).records()).toHaveLength(3);

    fixed = true;
    const progress: number[] = [];
    const first = await replayer.replay(DLQ, {}, { onProgress: (p) => progress.push(p.replayed) });
    expect(first).toMatchObject({ matched: 2, replayed: 2 });
    expect(progress.at(-1)).toBe(2);
    await settle(broker, () => effects.length === 3);

    const again = await replayer.replay(DLQ);
    expect(again).toMatchObject({ matched: 0, replayed: 0 });
    // Even a replay under another selection (a new position) adds no side effect: dedupe.
    const forced = await replayer.replay(DLQ, { key: 'o-1' });
    expect(forced.replayed).toBe(1);
    await broker.idle();
    await new Promise((r) => setTimeout(r, 50));
    await broker.idle();
    await consumer.stop();
    expect(effects.sort()).toEqual(['o-1', 'o-2', 'o-3']);
    // Replayed to the group's own replay topic: other groups of the source topic never see them.
    expect(broker.topic(TOPIC).records().filter((r) => r.headers['evkit_replay-from'] !== undefined)).toHaveLength(0);
    const replayed = broker.topic(`${TOPIC}.${GROUP}.replay`).records();
    expect(replayed).toHaveLength(3);
    for (const record of replayed) expect(record.headers['evkit_replay-from']!.toString()).toMatch(new RegExp(`^${DLQ.replace(/\./g, '\\.')}:\\d:\\d+$`));
  });

  it('selects by event type, key, error code and offsets', async () => {
    const { broker, publish, consumerWith } = setup({ maxAttempts: 1 });
    await publish(['a', 'b', 'c']);
    const consumer = consumerWith(async (event) => {
      if (event.data.orderId === 'b') throw new NonRetriableError('bad');
      throw new EvkitErrorForTest('transient');
    });
    await consumer.start();
    await settle(broker, () => dlqRecords(broker).length === 3);
    await consumer.stop();
    const replayer = createReplayer({ publisher: broker.publisher(), subscriber: () => broker.subscriber() });
    expect((await replayer.list(DLQ, { key: 'b' })).map((e) => e.errorCode)).toEqual(['EVKIT_RETRY_NON_RETRIABLE']);
    expect((await replayer.list(DLQ, { errorCode: 'EVKIT_TEST_TRANSIENT' })).map((e) => e.key).sort()).toEqual(['a', 'c']);
    expect(await replayer.list(DLQ, { eventType: 'other' })).toEqual([]);
    const all = await replayer.list(DLQ);
    const one = all[0]!;
    expect(await replayer.show(DLQ, one.position.partition, one.position.offset)).toMatchObject({ key: one.key });
    expect(await replayer.list(DLQ, { from: new Date(Date.now() + 60_000) })).toEqual([]);
  });
});

class EvkitErrorForTest extends EvkitError {
  readonly code = 'EVKIT_TEST_TRANSIENT';
}
