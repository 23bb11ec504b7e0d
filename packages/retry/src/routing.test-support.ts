import { createAvroCodec, createInMemoryRegistry } from '@evkit/codec';
import { createConsumer, type Consumer, type ConsumerOptions, type EventHandler } from '@evkit/consumer';
import { createEvent } from '@evkit/envelope';
import { createInMemoryBroker, type IncomingRecord, type InMemoryBroker, type OutgoingRecord } from '@evkit/transport';
import { createFailureRouting, type FailureRoutingOptions } from './routing';

// What the routing tests share: an in-memory broker, a consumer wired with failure routing,
// and waits on what the broker holds.

export const schema = { type: 'record', name: 'Shipment', fields: [{ name: 'orderId', type: 'string' }] };
export const TYPE = 'com.example.shipment.requested';
export const TOPIC = 'shipments';
export const GROUP = 'shipping';
export const DLQ = `${TOPIC}.${GROUP}.dlq`;

export function setup(routingOptions: Partial<FailureRoutingOptions> = {}) {
  const broker = createInMemoryBroker({ partitionsPerTopic: 2 });
  broker.createTopic(TOPIC, 2);
  const codec = createAvroCodec({ registry: createInMemoryRegistry() });
  const routing = createFailureRouting({ publisher: broker.publisher(), groupId: GROUP, delaysMs: [10, 20], maxAttempts: 3, jitter: 0, ...routingOptions });
  /** Records of events keyed `key`, on `topic` (default the source topic), not yet sent. */
  const encode = (keys: string[], topic = TOPIC): Promise<OutgoingRecord[]> =>
    Promise.all(
      keys.map(async (key) => ({ topic, ...(await codec.encode(TOPIC, createEvent({ source: '/orders', type: TYPE, partitionkey: key, data: { orderId: key } }), schema)) })),
    );
  const publish = async (keys: string[]) => {
    await broker.publisher().send(await encode(keys));
  };
  const consumerWith = (handler: EventHandler<{ orderId: string }>, extra: Partial<ConsumerOptions> = {}): Consumer =>
    createConsumer(
      { groupId: GROUP, topics: [TOPIC], codec, transport: broker.subscriber(), fromBeginning: true, failureBackoff: { initialMs: 5, maxMs: 5 }, middleware: [routing.middleware], ...extra },
    ).on(TYPE, handler);
  return { broker, codec, routing, encode, publish, consumerWith };
}

/** Waits for `done`, then for the broker to have nothing left to deliver (unless a partition never settles). */
export async function settle(broker: InMemoryBroker | undefined, done: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('not settled in time');
    await new Promise((r) => setTimeout(r, 10));
  }
  await broker?.idle();
}

export const dlqRecords = (broker: InMemoryBroker): IncomingRecord[] => {
  try {
    return broker.topic(DLQ).records();
  } catch {
    return []; // the topic does not exist yet: nothing dead-lettered
  }
};
