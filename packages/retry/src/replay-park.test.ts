import { createConsumer } from '@evkit/consumer';
import { DLT_HEADERS, RETRY_HEADERS } from './headers';
import { groupDeadLetters, PARK_HEADERS, parkedTopicFor } from './park';
import { createReplayer, type DeadLetterEntry } from './replay';
import { createFailureRouting } from './routing';
import { DLQ, dlqRecords, GROUP, settle, setup, TOPIC, TYPE } from './routing.test-support';

const REPLAY_TOPIC = `${TOPIC}.${GROUP}.replay`;

describe('replay to the failing group only', () => {
  it('a replayed record reaches the failing group through its replay topic; another group of the source topic does not see it', async () => {
    const { broker, codec, publish, consumerWith } = setup({ maxAttempts: 1 });
    await publish(['o-1']);
    let fixed = false;
    const shipping: string[] = [];
    const consumer = consumerWith(async (event) => {
      if (!fixed) throw new Error('bug');
      shipping.push(event.data.orderId);
    });
    const billing: string[] = [];
    const billingRouting = createFailureRouting({ publisher: broker.publisher(), groupId: 'billing', maxAttempts: 1 });
    const other = createConsumer({ groupId: 'billing', topics: [TOPIC], codec, transport: broker.subscriber(), fromBeginning: true, middleware: [billingRouting.middleware] }).on<{ orderId: string }>(
      TYPE,
      async (event) => void billing.push(event.data.orderId),
    );
    await consumer.start();
    await other.start();
    await settle(broker, () => dlqRecords(broker).length === 1 && billing.length === 1);

    fixed = true;
    const replayer = createReplayer({ publisher: broker.publisher(), subscriber: () => broker.subscriber() });
    expect(await replayer.replay(DLQ)).toMatchObject({ replayed: 1, destinations: { [REPLAY_TOPIC]: 1 } });
    await settle(broker, () => shipping.length === 1);
    await consumer.stop();
    await other.stop();
    expect(shipping).toEqual(['o-1']);
    expect(billing).toEqual(['o-1']); // once, from the source topic: never the replay
  });

  it('a replayed record that fails again retries through the source topic’s tiers and is dead-lettered as the source topic’s', async () => {
    const { broker, publish, consumerWith } = setup();
    await publish(['o-1']);
    const seen: string[] = [];
    const consumer = consumerWith(async (_event, context) => {
      seen.push(context.record.topic);
      throw new Error('still broken');
    });
    await consumer.start();
    await settle(broker, () => dlqRecords(broker).length === 1);
    const replayer = createReplayer({ publisher: broker.publisher(), subscriber: () => broker.subscriber() });
    await replayer.replay(DLQ);
    await settle(broker, () => dlqRecords(broker).length === 2);
    await consumer.stop();
    expect(seen).toEqual([TOPIC, `${TOPIC}.${GROUP}.retry.10`, `${TOPIC}.${GROUP}.retry.20`, REPLAY_TOPIC, `${TOPIC}.${GROUP}.retry.10`, `${TOPIC}.${GROUP}.retry.20`]);
    const again = dlqRecords(broker)[1]!;
    expect(again.headers[DLT_HEADERS.originalTopic]!.toString()).toBe(TOPIC);
    expect(again.headers[DLT_HEADERS.attempts]!.toString()).toBe('3');
    const retried = broker.topic(`${TOPIC}.${GROUP}.retry.10`).records()[1]!;
    expect(retried.headers[RETRY_HEADERS.originalTopic]!.toString()).toBe(TOPIC);
  });
  it('works in blocking mode too: the replay topic is read there as well', async () => {
    const { broker, publish, consumerWith } = setup({ mode: 'blocking', delaysMs: [1], maxAttempts: 1 });
    await publish(['o-1']);
    let fixed = false;
    const handled: string[] = [];
    const consumer = consumerWith(async (event, context) => {
      if (!fixed) throw new Error('bug');
      handled.push(`${context.record.topic}:${event.data.orderId}`);
    });
    await consumer.start();
    await settle(broker, () => dlqRecords(broker).length === 1);
    fixed = true;
    await createReplayer({ publisher: broker.publisher(), subscriber: () => broker.subscriber() }).replay(DLQ);
    await settle(broker, () => handled.length === 1);
    await consumer.stop();
    expect(handled).toEqual([`${REPLAY_TOPIC}:o-1`]);
  });
});

describe('park', () => {
  async function deadLettered() {
    const { broker, publish, consumerWith } = setup({ maxAttempts: 1 });
    await publish(['a', 'b', 'c']);
    const consumer = consumerWith(async (event) => {
      throw Object.assign(new Error(`cannot ship ${event.data.orderId}`), { code: event.data.orderId === 'b' ? 'EVKIT_TEST_B' : 'EVKIT_TEST_OTHER' });
    });
    await consumer.start();
    await settle(broker, () => dlqRecords(broker).length === 3);
    await consumer.stop();
    const replayer = createReplayer({ publisher: broker.publisher(), subscriber: () => broker.subscriber(), now: () => Date.parse('2026-03-01T12:00:00Z') });
    return { broker, replayer };
  }

  it('moves records to <topic>.<group>.parked with the reason; they leave the list and are never replayed', async () => {
    const { broker, replayer } = await deadLettered();
    expect(parkedTopicFor(DLQ)).toBe(`${TOPIC}.${GROUP}.parked`);
    const dry = await replayer.park(DLQ, { key: 'b' }, { reason: 'bad address, fixed by hand', dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, matched: 1, parked: 0 });
    expect(broker.topic(parkedTopicFor(DLQ)).records()).toHaveLength(0);

    const report = await replayer.park(DLQ, { key: 'b' }, { reason: 'bad address, fixed by hand' });
    expect(report).toMatchObject({ matched: 1, parked: 1, parkedTopic: `${TOPIC}.${GROUP}.parked` });
    const [parked] = broker.topic(parkedTopicFor(DLQ)).records();
    expect(parked!.key?.toString()).toBe('b');
    expect(parked!.headers[PARK_HEADERS.reason]!.toString()).toBe('bad address, fixed by hand');
    expect(parked!.headers[PARK_HEADERS.parkedAt]!.toString()).toBe('2026-03-01T12:00:00.000Z');
    expect(parked!.headers[DLT_HEADERS.errorCode]!.toString()).toBe('EVKIT_TEST_B'); // the diagnostics go along

    expect((await replayer.list(DLQ)).map((e) => e.key).sort()).toEqual(['a', 'c']);
    expect(await replayer.park(DLQ, {}, { reason: 'again' }, )).toMatchObject({ matched: 2, parked: 2 }); // b is not parked twice
    expect(await replayer.park(DLQ, {}, { reason: 'again' })).toMatchObject({ matched: 0, parked: 0 }); // resumable: done
    expect(await replayer.replay(DLQ)).toMatchObject({ matched: 0, replayed: 0 });
    // A parked record can still be replayed from the parked topic, to its group.
    expect(await replayer.replay(parkedTopicFor(DLQ), { key: 'b' })).toMatchObject({ replayed: 1, destinations: { [REPLAY_TOPIC]: 1 } });
    const [replayed] = broker.topic(REPLAY_TOPIC).records();
    expect(Object.keys(replayed!.headers).filter((h) => h.startsWith('evkit_dlt-') || h.startsWith('kafka_dlt-'))).toEqual([]);
  });

  it('refuses a park without a reason, and parking a parked topic', async () => {
    const { replayer } = await deadLettered();
    await expect(replayer.park(DLQ, {}, { reason: ' ' })).rejects.toThrow(/needs a reason/);
    await expect(replayer.park(parkedTopicFor(DLQ), {}, { reason: 'x' })).rejects.toThrow(/parked topic already/);
  });

  it('groups dead letters by error code, class and event type, and selects by class and by hand-picked positions', async () => {
    const { replayer } = await deadLettered();
    const groups = await replayer.groups(DLQ);
    expect(groups.map((g) => [g.errorCode, g.eventType, g.count])).toEqual([
      ['EVKIT_TEST_OTHER', TYPE, 2],
      ['EVKIT_TEST_B', TYPE, 1],
    ]);
    expect(groups[1]).toMatchObject({ errorClass: 'Error', sampleMessage: 'cannot ship b' });
    expect(await replayer.list(DLQ, { errorClass: 'TypeError' })).toEqual([]);
    const [first] = await replayer.list(DLQ);
    expect((await replayer.list(DLQ, { positions: [{ partition: first!.position.partition, offset: first!.position.offset }] })).map((e) => e.key)).toEqual([first!.key]);
    await expect(replayer.list(DLQ, { positions: [{ partition: -1, offset: '0' }] })).rejects.toThrow(/partition must be/);
  });

  it('groupDeadLetters keeps the latest message and the time span', () => {
    const entry = (timestamp: number, message: string) => ({ errorCode: 'X', errorClass: 'E', eventType: 't', timestamp, errorMessage: message }) as DeadLetterEntry;
    expect(groupDeadLetters([entry(5, 'late'), entry(1, 'early')])).toEqual([
      { errorCode: 'X', errorClass: 'E', eventType: 't', count: 2, firstAt: 1, lastAt: 5, sampleMessage: 'late' },
    ]);
  });
});
