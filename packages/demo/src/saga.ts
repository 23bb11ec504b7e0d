// The demo's order saga (@evkit/saga): reserve stock → charge payment (pivot) → ship. The order
// service orchestrates; inventory, payments and shipping are services of their own (each a
// createEvkit with its source), consumers with dedupe that reply through the outbox from inside
// their handler's transaction. Every command and reply is relayed by the demo's Debezium connector.
import type { Pool } from 'pg';
import { createSaga, defineSaga, type SagaDetails } from '@evkit/saga';
import type { Evkit } from '@evkit/service';
import type { EventDataMap } from './generated/events';

type Events = EventDataMap;

/** Orders the saga runs; the one of BLOCKED_CUSTOMER has its payment declined. */
export const SAGA_ORDERS = 4;
const DECLINED_ORDER = 3;
const BLOCKED_CUSTOMER = 'c-card-blocked';
const QUANTITY = 2;
const STOCK = 100;
// Generous: a timeout before the pivot compensates, and CI machines are slow; the demo waits for
// replies, not for timers.
const REPLY_TIMEOUT_MS = 20_000;

interface Order {
  orderId: string;
  customerId: string;
  sku: string;
  quantity: number;
  amountCents: number;
  paymentId?: string;
}

interface Topics {
  inventoryCommands: string;
  inventoryReplies: string;
  paymentsCommands: string;
  paymentsReplies: string;
  shipping: string;
  shippingReplies: string;
}

function orderSaga(t: Topics) {
  return defineSaga<Events, Order>({
    name: 'order',
    steps: [
      {
        name: 'reserve-stock',
        command: { topic: t.inventoryCommands, type: 'com.example.inventory.stock.reserve', data: (o) => ({ orderId: o.orderId, sku: o.sku, quantity: o.quantity }) },
        success: 'com.example.inventory.stock.reserved',
        failure: 'com.example.inventory.stock.rejected',
        // Awaited, so the history shows the release confirmed, not only sent.
        compensation: {
          topic: t.inventoryCommands,
          type: 'com.example.inventory.stock.release',
          data: (o) => ({ orderId: o.orderId, reason: 'order saga compensated' }),
          success: 'com.example.inventory.stock.released',
        },
        timeoutMs: REPLY_TIMEOUT_MS,
      },
      {
        name: 'charge-payment',
        pivot: true,
        command: {
          topic: t.paymentsCommands,
          type: 'com.example.payments.payment.charge',
          data: (o) => ({ orderId: o.orderId, customerId: o.customerId, amountCents: o.amountCents, currency: 'EUR' }),
        },
        success: 'com.example.payments.payment.charged',
        failure: 'com.example.payments.payment.declined',
        onSuccess: (o, reply) => ({ ...o, paymentId: (reply.data as Events['com.example.payments.payment.charged']).paymentId }),
        // Runs only after a timeout: the charge may have gone through without its answer arriving.
        compensation: { topic: t.paymentsCommands, type: 'com.example.payments.payment.refund', data: (o) => ({ orderId: o.orderId, reason: 'no answer to the charge' }) },
        timeoutMs: REPLY_TIMEOUT_MS,
      },
      {
        name: 'ship',
        command: {
          topic: t.shipping,
          type: 'com.example.shipping.shipment.requested',
          data: (o) => ({
            shipmentId: `ship-${o.orderId}`,
            orderId: o.orderId,
            address: { name: o.customerId, line1: '1 Demo Street', line2: null, postalCode: '10115', city: 'Berlin', country: 'DE' },
            parcels: 1,
            requestedAt: Date.now(),
          }),
        },
        success: 'com.example.shipping.shipment.dispatched',
        // Past the pivot: no answer means ask again, never undo the payment.
        timeoutMs: REPLY_TIMEOUT_MS,
        retry: { attempts: 3 },
      },
    ],
  });
}

/**
 * The participants' business tables. Every change is idempotent by order id, so a command sent
 * again (a retry after a timeout is a new event, which dedupe does not catch) changes nothing.
 */
async function migrateParticipants(pool: Pool): Promise<void> {
  await pool.query('create table if not exists demo_saga_stock (sku text primary key, available int not null)');
  await pool.query('create table if not exists demo_saga_reservations (order_id text primary key, sku text not null, quantity int not null, released_at timestamptz)');
  await pool.query('create table if not exists demo_saga_payments (order_id text primary key, payment_id text not null, amount_cents bigint not null, refunded_at timestamptz)');
  await pool.query('create table if not exists demo_saga_dispatches (order_id text primary key, shipment_id text not null)');
}

/** Inventory, payments and shipping: one consumer each, replying in the handler's transaction. */
function participants(service: (source: string) => Evkit<Events, true>, t: Topics, run: string) {
  const consumer = (evkit: Evkit<Events, true>, name: string, topic: string) =>
    evkit.consumer({ groupId: `demo-saga-${name}-${run}`, topics: [topic], fromBeginning: true, retry: { attempts: 3, delaysMs: [500] } });

  const inventory = service('/demo/inventory-service');
  const stock = consumer(inventory, 'inventory', t.inventoryCommands)
    .on('com.example.inventory.stock.reserve', async ({ data }, { transaction: tx }) => {
      const reject = async (reason: string) => {
        await inventory.write(tx, t.inventoryReplies, { type: 'com.example.inventory.stock.rejected', key: data.orderId, data: { orderId: data.orderId, reason } });
      };
      const prior = await tx.query<{ released_at: Date | null }>('select released_at from demo_saga_reservations where order_id = $1', [data.orderId]);
      // Released before this command arrived (a compensation overtook it): refuse, hold nothing.
      if (prior.rows[0]?.released_at) return reject('released before it was reserved');
      const taken = prior.rowCount ? prior : await tx.query('update demo_saga_stock set available = available - $2 where sku = $1 and available >= $2', [data.sku, data.quantity]);
      if (!taken.rowCount) return reject(`not ${data.quantity} of ${data.sku} left`);
      await tx.query('insert into demo_saga_reservations (order_id, sku, quantity) values ($1, $2, $3) on conflict do nothing', [data.orderId, data.sku, data.quantity]);
      await inventory.write(tx, t.inventoryReplies, { type: 'com.example.inventory.stock.reserved', key: data.orderId, data });
    })
    .on('com.example.inventory.stock.release', async ({ data }, { transaction: tx }) => {
      const released = await tx.query<{ sku: string; quantity: number }>(
        'update demo_saga_reservations set released_at = now() where order_id = $1 and released_at is null returning sku, quantity',
        [data.orderId],
      );
      const row = released.rows[0];
      if (row) await tx.query('update demo_saga_stock set available = available + $2 where sku = $1', [row.sku, row.quantity]);
      // Nothing held yet: remembered as released, so a reservation arriving late is refused.
      else await tx.query(`insert into demo_saga_reservations (order_id, sku, quantity, released_at) values ($1, '', 0, now()) on conflict do nothing`, [data.orderId]);
      await inventory.write(tx, t.inventoryReplies, { type: 'com.example.inventory.stock.released', key: data.orderId, data: { orderId: data.orderId, quantity: row?.quantity ?? 0 } });
    });

  const payments = service('/demo/payment-service');
  const pay = consumer(payments, 'payments', t.paymentsCommands)
    .on('com.example.payments.payment.charge', async ({ data }, { transaction: tx }) => {
      if (data.customerId === BLOCKED_CUSTOMER) {
        await payments.write(tx, t.paymentsReplies, { type: 'com.example.payments.payment.declined', key: data.orderId, data: { orderId: data.orderId, reason: 'card blocked by the issuer' } });
        return;
      }
      await tx.query('insert into demo_saga_payments (order_id, payment_id, amount_cents) values ($1, $2, $3) on conflict do nothing', [data.orderId, `pay-${data.orderId}`, data.amountCents]);
      const { rows } = await tx.query<{ payment_id: string; amount_cents: string }>('select payment_id, amount_cents from demo_saga_payments where order_id = $1', [data.orderId]);
      const charged = { orderId: data.orderId, paymentId: rows[0]!.payment_id, amountCents: Number(rows[0]!.amount_cents) };
      await payments.write(tx, t.paymentsReplies, { type: 'com.example.payments.payment.charged', key: data.orderId, data: charged });
    })
    .on('com.example.payments.payment.refund', async ({ data }, { transaction: tx }) => {
      await tx.query('update demo_saga_payments set refunded_at = now() where order_id = $1 and refunded_at is null', [data.orderId]);
    });

  const shipping = service('/demo/shipping-service');
  const ship = consumer(shipping, 'shipping', t.shipping).on('com.example.shipping.shipment.requested', async ({ data }, { transaction: tx }) => {
    await tx.query('insert into demo_saga_dispatches (order_id, shipment_id) values ($1, $2) on conflict do nothing', [data.orderId, data.shipmentId]);
    await shipping.write(tx, t.shippingReplies, { type: 'com.example.shipping.shipment.dispatched', key: data.orderId, data: { shipmentId: data.shipmentId, orderId: data.orderId, dispatchedAt: Date.now() } });
  });

  return {
    consumers: [stock, pay, ship],
    close: () => Promise.all([inventory, payments, shipping].map((e) => e.close())),
  };
}

export interface SagaRun {
  sagas: SagaDetails<Order>[];
  /** What is wrong with the outcome; empty when every saga ended as planned. */
  problems: string[];
  elapsedMs: number;
}

/**
 * Begins SAGA_ORDERS orders, each with its saga in the order's transaction, waits until every saga
 * finished, and checks each outcome against the participants' tables.
 */
export async function runOrderSagas(options: {
  /** The order service: it orchestrates. */
  evkit: Evkit<Events, true>;
  /** Makes another service's evkit (same Kafka, registry and pool), for the participants. */
  service: (source: string) => Evkit<Events, true>;
  pool: Pool;
  run: string;
  say: (line: string) => void;
  waitFor: (what: string, condition: () => Promise<boolean>, timeoutMs?: number) => Promise<void>;
}): Promise<SagaRun> {
  const { evkit, service, pool, run, say, waitFor } = options;
  const started = Date.now();
  const t: Topics = {
    inventoryCommands: `demo.inventory.commands.${run}`,
    inventoryReplies: `demo.inventory.replies.${run}`,
    paymentsCommands: `demo.payments.commands.${run}`,
    paymentsReplies: `demo.payments.replies.${run}`,
    shipping: `demo.shipping.${run}`,
    shippingReplies: `demo.shipping.replies.${run}`,
  };
  const sku = `sku-${run}`;
  await migrateParticipants(pool);
  await pool.query('insert into demo_saga_stock (sku, available) values ($1, $2)', [sku, STOCK]);
  const saga = createSaga({
    evkit,
    definition: orderSaga(t),
    replyTopics: [t.inventoryReplies, t.paymentsReplies, t.shippingReplies],
    groupId: `demo-saga-orchestrator-${run}`, // a group per run, as every consumer of the demo
    timers: { intervalMs: 200 },
    consumer: { fromBeginning: true, retry: { attempts: 3, delaysMs: [500] } },
  });
  await saga.migrate();
  const parts = participants(service, t, run);
  try {
    await Promise.all([saga.start(), ...parts.consumers.map((c) => c.start())]);
    const ids: string[] = [];
    for (let i = 1; i <= SAGA_ORDERS; i += 1) {
      const order: Order = { orderId: `saga-${run}-${i}`, customerId: i === DECLINED_ORDER ? BLOCKED_CUSTOMER : `c-${i}`, sku, quantity: QUANTITY, amountCents: 2500 + i };
      // The order and its saga commit together: the first command is an outbox row of this transaction.
      await evkit.inTransaction(async (tx) => {
        await tx.query('insert into demo_orders (id, customer_id, amount_cents) values ($1, $2, $3)', [order.orderId, order.customerId, order.amountCents]);
        ids.push((await saga.begin(tx, { id: order.orderId, data: order })).sagaId);
      });
    }
    say(`  ${SAGA_ORDERS} orders placed, each with its saga; the payment of order ${DECLINED_ORDER} (customer ${BLOCKED_CUSTOMER}) will be declined`);
    const finished = async () => (await saga.list({ limit: 1000 })).filter((s) => ids.includes(s.id) && ['completed', 'compensated', 'stuck'].includes(s.status)).length === ids.length;
    await waitFor('every saga to finish', finished, 60_000);
    const sagas = await Promise.all(ids.map((id) => saga.show(id)));
    return { sagas, problems: await check(pool, sagas, sku), elapsedMs: Date.now() - started };
  } finally {
    await saga.stop();
    await parts.close();
  }
}

/** Each saga's outcome, held against what the participants' tables say happened. */
async function check(pool: Pool, sagas: SagaDetails<Order>[], sku: string): Promise<string[]> {
  const problems: string[] = [];
  const one = async (sql: string, orderId: string) => (await pool.query(sql, [orderId])).rows[0] as Record<string, unknown> | undefined;
  for (const s of sagas) {
    const declined = s.data.customerId === BLOCKED_CUSTOMER;
    const expected = declined ? 'compensated' : 'completed';
    if (s.status !== expected) problems.push(`saga ${s.id}: ${s.status}, expected ${expected}`);
    const reservation = await one('select released_at from demo_saga_reservations where order_id = $1', s.id);
    const payment = await one('select refunded_at from demo_saga_payments where order_id = $1', s.id);
    const dispatch = await one('select 1 from demo_saga_dispatches where order_id = $1', s.id);
    const kinds = s.history.map((h) => `${h.kind}${h.step ? ` ${h.step}` : ''}`);
    if (declined) {
      if (!reservation || reservation.released_at === null) problems.push(`saga ${s.id}: the stock reservation was not released`);
      if (payment || dispatch) problems.push(`saga ${s.id}: declined, yet a payment or a dispatch exists`);
      for (const k of ['step-failed charge-payment', 'compensation-sent reserve-stock', 'compensated-step reserve-stock', 'compensated']) {
        if (!kinds.includes(k)) problems.push(`saga ${s.id}: no "${k}" in its history`);
      }
    } else {
      if (!reservation || reservation.released_at !== null) problems.push(`saga ${s.id}: its stock is not held`);
      if (!payment || payment.refunded_at !== null) problems.push(`saga ${s.id}: not charged, or refunded`);
      if (!dispatch) problems.push(`saga ${s.id}: not dispatched`);
      if (s.data.paymentId !== `pay-${s.id}`) problems.push(`saga ${s.id}: the payment id did not reach the saga's data`);
    }
    if (kinds.some((k) => k.startsWith('compensation-sent') && kinds.indexOf(k) !== kinds.lastIndexOf(k))) problems.push(`saga ${s.id}: a compensation sent twice`);
  }
  const { rows } = await pool.query<{ available: number }>('select available from demo_saga_stock where sku = $1', [sku]);
  const completed = sagas.filter((s) => s.data.customerId !== BLOCKED_CUSTOMER).length;
  const left = STOCK - completed * QUANTITY;
  if (rows[0]?.available !== left) problems.push(`stock of ${sku}: ${rows[0]?.available}, expected ${left} (only the completed orders hold stock)`);
  return problems;
}

/** A saga's history as report lines: each transition, its step, and the event that caused or was sent. */
export function describeSaga(s: SagaDetails<Order>): string[] {
  const header = `saga ${s.id} (customer ${s.data.customerId}): ${s.status.toUpperCase()}, version ${s.version}`;
  const lines = s.history.map((h) => {
    const what = `${h.kind}${h.step ? ` ${h.step}` : ''}`.padEnd(34);
    return `  ${what} ${h.eventType ?? ''}${h.detail && !h.eventType ? h.detail : ''}`.trimEnd();
  });
  return [header, ...lines];
}
