import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { createAvroCodec } from '@evkit/codec';
import { createConsumer, type Consumer } from '@evkit/consumer';
import { createProducer } from '@evkit/producer';
import { createFailureRouting, createReplayer, parkedTopicFor } from '@evkit/retry';
import { createLocalStack } from '@evkit/stack';
import { createKafkaJsPublisher, createKafkaJsSubscriber, createTopicsAndWait } from '@evkit/transport-kafkajs';

// Group-only replay on the real stack: two groups read one topic, one fails and dead-letters,
// the replay reaches that group alone.
const { endpoints } = createLocalStack();
const kafkaOptions = { brokers: endpoints.kafkaBrokers, logLevel: logLevel.NOTHING };
const kafka = new Kafka({ clientId: 'evkit-it-replay-group', ...kafkaOptions });
const codec = createAvroCodec({ registry: { url: endpoints.registryUrl } });
const schema = { type: 'record', name: 'InvoiceRequested', namespace: 'dev.evkit.it', fields: [{ name: 'orderId', type: 'string' }] };
const TYPE = 'dev.evkit.it.invoice.requested';
const producer = createProducer({ codec, source: '/it', kafka: kafkaOptions });
const publisher = createKafkaJsPublisher(kafkaOptions);

beforeAll(async () => {
  await producer.connect();
  await publisher.connect();
});
afterAll(async () => {
  await producer.disconnect();
  await publisher.disconnect();
});

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

function consumerOf(topic: string, groupId: string, handler: (orderId: string) => void): Consumer {
  const routing = createFailureRouting({ publisher, groupId, delaysMs: [100], maxAttempts: 2, jitter: 0 });
  return createConsumer({ groupId, topics: [topic], codec, fromBeginning: true, kafka: { ...kafkaOptions, sessionTimeout: 10_000 }, middleware: [routing.middleware] }).on<{ orderId: string }>(
    TYPE,
    async (event) => handler(event.data.orderId),
  );
}

const lagOf = async (consumer: Consumer) => (await consumer.lag()).reduce((sum, p) => sum + p.offsetLag, 0);

it('replays a dead letter to the failing group only: the other group of the topic is not called again', async () => {
  const topic = `evkit.it.replay-group.${randomUUID()}`;
  const admin = kafka.admin();
  await admin.connect();
  await createTopicsAndWait(admin, [{ topic, numPartitions: 2 }]);
  await admin.disconnect();
  const shipping = `evkit-it-shipping-${randomUUID()}`;
  const billing = `evkit-it-billing-${randomUUID()}`;
  let fixed = false;
  const shipped: string[] = [];
  const billed: string[] = [];
  const shippingConsumer = consumerOf(topic, shipping, (orderId) => {
    if (!fixed && orderId !== 'ok') throw new Error(`carrier refused ${orderId}`);
    shipped.push(orderId);
  });
  const billingConsumer = consumerOf(topic, billing, (orderId) => void billed.push(orderId));
  await Promise.all([shippingConsumer.start(), billingConsumer.start()]);
  try {
    for (const orderId of ['ok', 'r-1', 'r-2']) await producer.publish(topic, { type: TYPE, partitionkey: orderId, data: { orderId } }, schema);
    const dlq = `${topic}.${shipping}.dlq`;
    const replayer = createReplayer({ publisher, subscriber: () => createKafkaJsSubscriber({ ...kafkaOptions, sessionTimeout: 10_000 }) });
    await waitFor(async () => (await replayer.list(dlq)).length === 2, 90_000);
    await waitFor(() => billed.length === 3);

    fixed = true;
    const parked = await replayer.park(dlq, { key: 'r-2' }, { reason: 'order cancelled by hand' });
    expect(parked).toMatchObject({ parked: 1, parkedTopic: parkedTopicFor(dlq) });
    const report = await replayer.replay(dlq);
    expect(report).toMatchObject({ matched: 1, replayed: 1, destinations: { [`${topic}.${shipping}.replay`]: 1 } });
    expect(await replayer.replay(dlq)).toMatchObject({ matched: 0, replayed: 0 }); // resumable: done

    await waitFor(() => shipped.includes('r-1'));
    await waitFor(async () => (await lagOf(shippingConsumer)) === 0 && (await lagOf(billingConsumer)) === 0);
    // Give a stray delivery to billing time to show up before counting.
    await new Promise((r) => setTimeout(r, 2000));
    expect(shipped.sort()).toEqual(['ok', 'r-1']);
    expect(billed.sort()).toEqual(['ok', 'r-1', 'r-2']); // each once, from the source topic only
    expect((await replayer.list(dlq)).map((e) => e.key)).toEqual(['r-1']); // r-2 parked; r-1 stays listed (replay copies)
  } finally {
    await Promise.all([shippingConsumer.stop(), billingConsumer.stop()]);
  }
}, 180_000);
