import { createAvroCodec, createInMemoryRegistry } from '@evkit/codec';
import { createConsumer, type EventHandler } from '@evkit/consumer';
import { createEvent } from '@evkit/envelope';
import { createMemoryIdempotencyStore } from '@evkit/idempotency';
import { createInMemoryBroker, type InMemoryBroker } from '@evkit/transport';
import { createFailureRouting, type FailureRoutingOptions } from './routing';
import { DLQ, GROUP, schema, settle, TOPIC, TYPE } from './routing.test-support';

// Issue #14's live bug: a handler that never settles, on one partition with other keys behind it.
// A timed-out attempt must be a failed attempt: retried, then dead-lettered exactly once, while
// the partition's other keys are handled (non-blocking) or wait their turn (blocking).

type Data = { orderId: string };
const never = () => new Promise<void>(() => undefined);

async function run(mode: FailureRoutingOptions['mode'], stuck: EventHandler<Data>, withStore = false) {
  const broker: InMemoryBroker = createInMemoryBroker({ partitionsPerTopic: 1 });
  broker.createTopic(TOPIC, 1);
  const codec = createAvroCodec({ registry: createInMemoryRegistry() });
  const routing = createFailureRouting({ publisher: broker.publisher(), groupId: GROUP, mode, maxAttempts: 3, delaysMs: [10, 20], jitter: 0 });
  const keys = ['stuck', 'k-2', 'k-3'];
  await broker.publisher().send(
    await Promise.all(keys.map(async (key) => ({ topic: TOPIC, ...(await codec.encode(TOPIC, createEvent({ source: '/orders', type: TYPE, partitionkey: key, data: { orderId: key } }), schema)) }))),
  );
  const calls = { stuck: 0 };
  const handled: string[] = [];
  const store = withStore ? createMemoryIdempotencyStore() : undefined;
  const consumer = createConsumer({
    groupId: GROUP,
    topics: [TOPIC],
    codec,
    transport: broker.subscriber(),
    fromBeginning: true,
    handlerTimeoutMs: 100,
    failureBackoff: { initialMs: 5, maxMs: 5 },
    middleware: [routing.middleware],
    ...(store ? { idempotency: store } : {}),
  }).on<Data>(TYPE, async (event, context) => {
    if (event.data.orderId !== 'stuck') {
      handled.push(event.data.orderId);
      return;
    }
    calls.stuck += 1;
    await stuck(event, context);
  });
  await consumer.start();
  const dlq = () => {
    try {
      return broker.topic(DLQ).records();
    } catch {
      return []; // not created yet: nothing dead-lettered
    }
  };
  await settle(undefined, () => dlq().length >= 1 && handled.length === 2, 5000);
  // Long enough for any further attempt or dead-letter to show.
  await new Promise((r) => setTimeout(r, 400));
  await consumer.stop();
  return { calls, handled, dlq: dlq(), store };
}

describe.each(['non-blocking', 'blocking'] as const)('a handler that never settles (%s)', (mode) => {
  it('when it ignores its signal: called maxAttempts times, dead-lettered once, the other keys handled', async () => {
    const { calls, handled, dlq } = await run(mode, never);
    expect(calls.stuck).toBe(3);
    expect(dlq).toHaveLength(1);
    expect(dlq[0]!.headers['evkit_dlt-error-code']?.toString()).toBe('EVKIT_CONSUMER_HANDLER_TIMEOUT');
    expect(dlq[0]!.headers['evkit_dlt-attempts']?.toString()).toBe('3');
    expect(handled.sort()).toEqual(['k-2', 'k-3']);
  }, 10_000);

  it('when it honours its signal and rejects: the same', async () => {
    const { calls, handled, dlq } = await run(mode, (_event, context) =>
      new Promise<void>((_resolve, reject) => context.signal.addEventListener('abort', () => reject(context.signal.reason as Error), { once: true })),
    );
    expect(calls.stuck).toBe(3);
    expect(dlq).toHaveLength(1);
    expect(handled.sort()).toEqual(['k-2', 'k-3']);
  }, 10_000);
});

it('releases the dedupe key of an abandoned attempt, and its late success records nothing', async () => {
  let finish: (() => void)[] = [];
  const { calls, handled, dlq, store } = await run(
    'non-blocking',
    () => new Promise<void>((resolve) => finish.push(resolve)),
    true,
  );
  expect(calls.stuck).toBe(3); // each attempt ran: no attempt waited on the one before it
  expect(dlq).toHaveLength(1);
  expect(handled).toHaveLength(2);
  const rowsBefore = store!.size();
  finish.forEach((resolve) => resolve()); // the abandoned attempts finish late
  finish = [];
  await new Promise((r) => setTimeout(r, 20));
  expect(store!.size()).toBe(rowsBefore); // only the two handled keys: no late row for the stuck event
  expect(rowsBefore).toBe(2);
}, 10_000);
