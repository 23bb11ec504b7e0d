// The README's quickstart: an orders service and a billing consumer, against the local stack.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createEvkit } from '@evkit/service';
import { catalogue } from './generated/events'; // npx evkit codegen --out generated/events.ts

const env = process.env;
const evkit = createEvkit({
  source: '/orders-service',
  catalogue,
  kafka: { brokers: (env.EVKIT_KAFKA_BROKERS ?? '127.0.0.1:19092').split(',') },
  registry: { url: env.EVKIT_REGISTRY_URL ?? 'http://127.0.0.1:18081/apis/ccompat/v7' },
  postgres: { connectionString: env.EVKIT_PG_URL ?? 'postgres://evkit:evkit@127.0.0.1:15432/evkit' },
});

const handled = new Set<string>(); // what billing did, for the waits below

async function main(): Promise<void> {
  await evkit.migrate(); // the outbox and processed-events tables
  await evkit.inTransaction((tx) => tx.query(`CREATE TABLE IF NOT EXISTS orders (id text PRIMARY KEY, cents bigint NOT NULL);
    CREATE TABLE IF NOT EXISTS invoices (order_id text PRIMARY KEY, cents bigint NOT NULL, status text)`));

  // Billing: each event once (dedupe row and invoice in one transaction); 3 attempts, then the DLQ.
  const billing = evkit.consumer({ groupId: 'billing', topics: ['orders'], retry: { attempts: 3, delaysMs: [500] } });
  billing
    .on('com.example.orders.order.placed', async ({ data }, ctx) => {
      await ctx.transaction.query('INSERT INTO invoices VALUES ($1, $2, $3)', [data.orderId, data.amountCents, 'open']);
      handled.add(`placed ${data.orderId}`);
    })
    .on('com.example.orders.order.cancelled', async ({ data }, ctx) => {
      await ctx.transaction.query('UPDATE invoices SET status = $2 WHERE order_id = $1', [data.orderId, data.reason]);
      handled.add(`cancelled ${data.orderId}`);
    });
  await billing.start();
  evkit.startRelay(); // outbox rows to Kafka (or relay them with Debezium: connect-configs/)
  // The order and its event commit together, or not at all: the outbox write is in the transaction.
  const orderId = randomUUID();
  await evkit.inTransaction(async (tx) => {
    await tx.query('INSERT INTO orders VALUES ($1, $2)', [orderId, 4200]);
    const data = { orderId, customerId: 'c-1', amountCents: 4200, currency: 'EUR', placedAt: Date.now() };
    await evkit.write(tx, 'orders', { type: 'com.example.orders.order.placed', key: orderId, data });
  });
  await billed(`placed ${orderId}`);
  // A direct publish (no outbox): it would overtake a row the relay has not sent yet, hence the wait.
  const data = { orderId, reason: 'CUSTOMER_REQUEST' as const, note: null, cancelledAt: Date.now() };
  await evkit.publish('orders', { type: 'com.example.orders.order.cancelled', key: orderId, data });
  await billed(`cancelled ${orderId}`);
  console.log(`billed: ${[...handled].join(', ')}`);
}

async function billed(what: string): Promise<void> {
  for (let waited = 0; !handled.has(what); waited += 100) {
    if (waited > 60_000) throw new Error(`billing did not handle ${what}`);
    await sleep(100);
  }
}

main()
  .finally(() => evkit.close()) // stops the consumer and relay, releases every connection
  .catch((error: unknown) => ((process.exitCode = 1), console.error(error)));
