#!/usr/bin/env node
// The end-to-end demo: `npm run demo`. Every step runs against the real local stack, which it
// starts when needed. Each run uses topics and groups of its own, so it can be run again.
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Pool } from 'pg';
import { createAvroCodec, IncompatibleSchemaError } from '@evkit/codec';
import { applyConnectorConfig, createConnectClient } from '@evkit/connect';
import { terminalErrorText } from '@evkit/errors';
import { createOutboxWriter, inTransaction } from '@evkit/outbox';
import { createReplayer, DEFAULT_TOPIC_NAMING, NonRetriableError } from '@evkit/retry';
import { createEvkit } from '@evkit/service';
import { createLocalStack } from '@evkit/stack';
import { loadTransport } from '@evkit/transport';
import { demoClient } from './client';
import { catalogue, schemas, type OrderPlaced } from './generated/events'; // `evkit codegen` from schemas/
import { describeSaga, runOrderSagas } from './saga';

const ORDERS = 20;
const POISON_ORDER = 7; // shipping cannot handle it until the "fix"
const DUPLICATES = 5;
const ORDER_PLACED = 'com.example.orders.order.placed';
const repoRoot = path.resolve(__dirname, '..', '..', '..');

const say = (line: string) => process.stdout.write(`${line}\n`);
const step = (title: string) => say(`\n== ${title}`);

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function main(): Promise<void> {
  const client = await demoClient(repoRoot);
  if (typeof client === 'object') {
    process.exitCode = client.exitCode;
    return;
  }
  const run = randomUUID().slice(0, 8);
  const topic = `demo.orders.${run}`;
  const spans = new InMemorySpanExporter();
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }));
  const tracer = trace.getTracer('evkit-demo');

  step('Local stack');
  const stack = createLocalStack({ log: (line) => say(`  ${line}`) });
  await stack.up();
  const { endpoints } = stack;
  const kafka = { brokers: endpoints.kafkaBrokers };
  const transport = loadTransport(client);
  // The demo's own pool, for its tables and report; evkit uses it and leaves it open.
  const pool = new Pool({ connectionString: endpoints.postgresUrl, max: 20 });
  // One per service: the order service, and the saga's participants (inventory, payments, shipping).
  // The demo's own outbox table, relayed by Debezium alone: a polling relay on the same table (the
  // quickstart's, on the default one) would update rows under the connector, which fails on that.
  const outboxTable = 'evkit_demo_outbox';
  const service = (source: string) =>
    createEvkit({ source, catalogue, client, kafka, registry: { url: endpoints.registryUrl }, postgres: { pool, outboxTable } });
  const evkit = service('/demo/order-service');
  // Raw records for the duplicate injection and the replay, below evkit's envelope.
  const publisher = transport.createPublisher(kafka);

  try {
    step('Outbox relayed by Debezium');
    await evkit.migrate();
    await pool.query('create table if not exists demo_orders (id text primary key, customer_id text not null, amount_cents bigint not null)');
    await pool.query('create table if not exists demo_invoices (order_id text primary key, amount_cents bigint not null)');
    await pool.query('create table if not exists demo_shipments (order_id text primary key)');
    const applied = await applyConnectorConfig({
      client: createConnectClient({ url: endpoints.connectUrl }),
      file: path.join(repoRoot, 'connect-configs/outbox-connector.json'),
      env: {
        ...process.env,
        EVKIT_OUTBOX_CONNECTOR: 'evkit-demo',
        EVKIT_OUTBOX_SLOT: 'evkit_demo',
        EVKIT_OUTBOX_PUBLICATION: 'evkit_demo',
        EVKIT_OUTBOX_TABLE: outboxTable,
        EVKIT_OUTBOX_DB_HOST: '127.0.0.1',
        EVKIT_OUTBOX_DB_PORT: String(stack.config.ports.postgres),
        EVKIT_OUTBOX_DB_USER: 'evkit',
        EVKIT_OUTBOX_DB_PASSWORD: 'evkit',
        EVKIT_OUTBOX_DB_NAME: 'evkit',
      },
    });
    say(`  connector ${applied.name}: ${applied.action}, ${applied.status.connector.state}`);

    step('Consumers: billing (idempotent) and shipping (retry topics, dead-letter topic)');
    let injected = 0;
    const billing = { handled: 0, duplicates: 0 };
    const billingConsumer = evkit.consumer({
      groupId: `demo-billing-${run}`,
      topics: [topic],
      retry: false,
      fromBeginning: true,
      keyConcurrency: 4,
      // Counts what the dedupe absorbed: it marks the context when it skipped the handler.
      middleware: [(next) => async (event, ctx) => {
        await next(event, ctx);
        if (ctx.duplicate) billing.duplicates += 1;
      }],
    });
    billingConsumer.on(ORDER_PLACED, async (event, ctx) => {
      await ctx.transaction.query('insert into demo_invoices (order_id, amount_cents) values ($1, $2)', [event.data.orderId, event.data.amountCents]);
      billing.handled += 1;
      // Inject duplicates: the same record sent again, as a retrying producer or relay would.
      if (injected < DUPLICATES) {
        injected += 1;
        await publisher.send([{ topic: ctx.record.topic, key: ctx.record.key, value: ctx.record.value, headers: ctx.record.headers }]);
      }
    });

    const shipping = { handled: 0, fixed: false };
    const shippingGroup = `demo-shipping-${run}`;
    const shippingConsumer = evkit.consumer({ groupId: shippingGroup, topics: [topic], fromBeginning: true, retry: { attempts: 2, delaysMs: [500] } });
    shippingConsumer.on(ORDER_PLACED, async (event, ctx) => {
      if (event.data.orderId.endsWith(`-${POISON_ORDER}`) && !shipping.fixed) {
        throw new NonRetriableError(`order ${event.data.orderId} has an address the label printer rejects`);
      }
      await ctx.transaction.query('insert into demo_shipments (order_id) values ($1)', [event.data.orderId]);
      shipping.handled += 1;
    });
    const consumers = [billingConsumer, shippingConsumer];
    await Promise.all(consumers.map((c) => c.start()));

    step(`Order service: ${ORDERS} orders, each with its outbox row in one transaction`);
    let traced: string | undefined;
    for (let i = 1; i <= ORDERS; i += 1) {
      const orderId = `${run}-${i}`;
      const data: OrderPlaced = { orderId, customerId: `c-${i % 4}`, amountCents: 1000 + i, currency: 'EUR', placedAt: Date.now() };
      await tracer.startActiveSpan('checkout', async (span) => {
        await evkit.inTransaction(async (tx) => {
          await tx.query('insert into demo_orders (id, customer_id, amount_cents) values ($1, $2, $3)', [orderId, data.customerId, data.amountCents]);
          await evkit.write(tx, topic, { type: ORDER_PLACED, key: orderId, subject: `order/${orderId}`, data });
        });
        traced ??= span.spanContext().traceId;
        span.end();
      });
    }
    const rolledBack = await evkit.inTransaction(async (tx) => {
      await evkit.write(tx, topic, { type: ORDER_PLACED, key: `${run}-rolled-back`, data: { orderId: `${run}-rb`, customerId: 'c', amountCents: 1, currency: 'EUR', placedAt: Date.now() } });
      throw new Error('payment declined: the business transaction rolls back, and its event with it');
    }).catch((error: Error) => error.message);
    say(`  ${ORDERS} orders committed; one more rolled back (${rolledBack})`);

    step('A schema change that breaks compatibility is refused before anything is written');
    // Outside the catalogue's types (the compiler would refuse it), so through the outbox writer alone.
    const breaking = { ...schemas.OrderPlaced, fields: [...schemas.OrderPlaced.fields, { name: 'warehouseId', type: 'string' }] };
    const codec = createAvroCodec({ registry: { url: endpoints.registryUrl } });
    const writer = createOutboxWriter({ codec, source: '/demo/order-service', table: outboxTable, aggregateTypeToTopic: () => topic });
    let refused = 'not refused!';
    try {
      await inTransaction(pool, (client) =>
        writer.write(client, { aggregateType: 'order', aggregateId: `${run}-x`, event: { type: ORDER_PLACED, data: { orderId: `${run}-x`, customerId: 'c', amountCents: 1, currency: 'EUR', placedAt: Date.now(), warehouseId: 'w' } }, schema: breaking }),
      );
    } catch (error) {
      refused = error instanceof IncompatibleSchemaError ? `${error.code}: ${error.message}` : String(error);
    }
    say(`  ${refused}`);

    step('Relay and handling');
    await waitFor('billing to invoice every order', () => billing.handled >= ORDERS);
    await waitFor('shipping to ship every order but the poison one', () => shipping.handled >= ORDERS - 1);
    const dlq = DEFAULT_TOPIC_NAMING.deadLetter(topic, shippingGroup);
    const replayer = createReplayer({ publisher, subscriber: () => transport.createSubscriber(kafka) });
    let deadLettered: Awaited<ReturnType<typeof replayer.list>> = [];
    await waitFor('the poison order in the dead-letter topic', async () => {
      await new Promise((r) => setTimeout(r, 1000));
      deadLettered = await replayer.list(dlq);
      return deadLettered.length > 0;
    });
    const [dead] = deadLettered;
    say(`  dead-lettered: key ${dead!.key}, ${dead!.errorCode}: ${dead!.errorMessage}`);

    step('The fix ships; the dead-letter topic is replayed (twice: the second run sends nothing)');
    shipping.fixed = true;
    const firstReplay = await replayer.replay(dlq);
    const secondReplay = await replayer.replay(dlq);
    await waitFor('shipping to ship the replayed order', () => shipping.handled >= ORDERS);
    await waitFor('billing to absorb the injected duplicates', () => billing.duplicates >= DUPLICATES);
    await waitFor('consumers to catch up', async () => (await Promise.all(consumers.map((c) => c.lag()))).flat().filter((p) => p.topic === topic).every((p) => p.offsetLag === 0));

    step('Order saga: reserve stock → charge payment (pivot) → ship; participants reply through the outbox');
    const sagas = await runOrderSagas({ evkit, service, pool, run, say, waitFor });

    const lag = (await Promise.all(consumers.map((c) => c.lag()))).flat().filter((p) => p.topic === topic);
    const hops = spans.getFinishedSpans().filter((s) => s.spanContext().traceId === traced);
    step('Report');
    say(`  run                      ${run} (topic ${topic})`);
    const onTopic = lag.filter((p) => p.partition >= 0).reduce((sum, p) => sum + Number(p.highWatermark), 0) / consumers.length;
    // The replay went to shipping's own replay topic, not to this one.
    const relayed = onTopic - injected;
    say(`  events relayed           ${relayed} by Debezium for ${ORDERS} committed orders (the rolled-back one: none; the refused schema: none)`);
    say(`  billing                  ${await countRows(pool, 'demo_invoices', run)} invoices; absorbed ${billing.duplicates} duplicate deliveries: ${injected} injected, and any redelivery (the replay went to shipping's group only)`);
    const deadEvents = new Set(deadLettered.map((e) => e.eventId)).size;
    say(`  shipping                 ${await countRows(pool, 'demo_shipments', run)} shipments; ${deadEvents} event dead-lettered (${deadLettered.length} record(s): dead-lettering is at least once), replayed ${firstReplay.replayed} to ${Object.keys(firstReplay.destinations).join(', ')}, second replay ${secondReplay.replayed}`);
    say(`  lag                      ${lag.reduce((sum, p) => sum + p.offsetLag, 0)} records over ${lag.length} partition(s)`);
    const hopNames = hops
      .sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1])
      .map((span) => `${span.name}${span.attributes['messaging.consumer.group.name'] ? ` [${String(span.attributes['messaging.consumer.group.name'])}]` : ''}`);
    say(`  one trace across the hops ${traced}:`);
    say(`                           ${hopNames.join('\n                           -> ')}`);
    const outcomes = sagas.sagas.map((s) => s.status).join(', ');
    say(`  order sagas              ${outcomes} in ${(sagas.elapsedMs / 1000).toFixed(1)} s (npx evkit saga show <id>):`);
    for (const saga of sagas.sagas) for (const line of describeSaga(saga)) say(`    ${line}`);
    for (const problem of sagas.problems) say(`  SAGA PROBLEM: ${problem}`);
    const ok =
      (await countRows(pool, 'demo_invoices', run)) === ORDERS &&
      (await countRows(pool, 'demo_shipments', run)) === ORDERS &&
      billing.duplicates >= DUPLICATES &&
      refused.startsWith('EVKIT_CODEC_INCOMPATIBLE_SCHEMA') &&
      sagas.problems.length === 0;
    say(ok ? '\ndemo passed: nothing lost, nothing applied twice' : '\ndemo FAILED: see above');
    process.exitCode = ok ? 0 : 1;
  } finally {
    await evkit.close(); // stops the consumers, releases what evkit made
    await publisher.disconnect();
    await pool.end();
  }
}

async function countRows(pool: Pool, table: string, run: string): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(`select count(*) as n from ${table} where order_id like $1`, [`${run}-%`]);
  return Number(rows[0]!.n);
}

main().then(
  // Exit explicitly: a client library's timer must not keep a finished demo alive.
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    process.stderr.write(`demo failed: ${terminalErrorText(error)}\n`);
    process.exit(2);
  },
);
