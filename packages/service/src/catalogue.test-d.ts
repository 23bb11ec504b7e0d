// Type-level tests, checked by `npm run typecheck` (tsconfig.tests.json): each @ts-expect-error
// marks code that must not compile. Should a change let it compile, the directive is unused and
// the typecheck fails (TS2578), so a regression in the typing cannot pass unnoticed.
import type { PoolClient } from 'pg';
import { createEvkit } from './evkit';

interface Events {
  'com.example.orders.order.placed': { orderId: string; amountCents: number };
  'com.example.orders.order.cancelled': { orderId: string; reason: 'CUSTOMER_REQUEST' | 'OTHER' };
}
declare const catalogue: { readonly schemas: { readonly [K in keyof Events]: object }; readonly dataTypes?: Events };
const registry = { url: 'http://127.0.0.1:18081/apis/ccompat/v7' };
const kafka = { brokers: ['127.0.0.1:19092'] };

export async function withPostgres(): Promise<void> {
  const evkit = createEvkit({ source: '/orders', catalogue, registry, kafka, postgres: { connectionString: 'postgres://x' } });

  await evkit.publish('orders', { type: 'com.example.orders.order.placed', key: 'o-1', data: { orderId: 'o-1', amountCents: 5 } });
  // @ts-expect-error the data of another type (OrderCancelled's reason on OrderPlaced)
  await evkit.publish('orders', { type: 'com.example.orders.order.placed', data: { orderId: 'o-1', reason: 'OTHER' } });
  // @ts-expect-error a field of the wrong type
  await evkit.publish('orders', { type: 'com.example.orders.order.placed', data: { orderId: 'o-1', amountCents: '5' } });
  // @ts-expect-error a required field missing
  await evkit.publish('orders', { type: 'com.example.orders.order.placed', data: { orderId: 'o-1' } });
  // @ts-expect-error a type that is not in the catalogue
  await evkit.publish('orders', { type: 'com.example.orders.order.lost', data: { orderId: 'o-1' } });
  // @ts-expect-error an enum symbol the schema does not have
  await evkit.publish('orders', { type: 'com.example.orders.order.cancelled', data: { orderId: 'o-1', reason: 'BORED' } });
  await evkit.publishBatch('orders', [{ type: 'com.example.orders.order.placed', key: 'o-1', data: { orderId: 'o-1', amountCents: 5 } }]);
  // @ts-expect-error one event of a batch with another type's data
  await evkit.publishBatch('orders', [{ type: 'com.example.orders.order.cancelled', data: { orderId: 'o-1', amountCents: 5 } }]);

  await evkit.inTransaction(async (tx) => {
    await evkit.write(tx, 'orders', { type: 'com.example.orders.order.cancelled', key: 'o-1', data: { orderId: 'o-1', reason: 'OTHER' } });
    // @ts-expect-error the outbox needs the key: it orders the aggregate's events
    await evkit.write(tx, 'orders', { type: 'com.example.orders.order.cancelled', data: { orderId: 'o-1', reason: 'OTHER' } });
    // @ts-expect-error wrong data for the type, in the outbox too
    await evkit.write(tx, 'orders', { type: 'com.example.orders.order.cancelled', key: 'o-1', data: { orderId: 'o-1', amountCents: 5 } });
  });

  evkit
    .consumer({ groupId: 'billing', topics: ['orders'] })
    .on('com.example.orders.order.placed', async (event, ctx) => {
      const cents: number = event.data.amountCents; // inferred from the type string
      const tx: PoolClient = ctx.transaction; // present: dedupe is on with postgres
      await tx.query('SELECT $1::bigint', [cents]);
      // @ts-expect-error OrderPlaced has no reason
      void event.data.reason;
    })
    // @ts-expect-error a type that is not in the catalogue
    .on('com.example.orders.order.lost', async () => {});

  evkit.consumer({ groupId: 'audit', topics: ['orders'], dedupe: false }).on('com.example.orders.order.cancelled', async (event, ctx) => {
    const reason: 'CUSTOMER_REQUEST' | 'OTHER' = event.data.reason;
    await Promise.resolve(reason);
    // @ts-expect-error without dedupe there is no transaction
    const tx: PoolClient = ctx.transaction;
    void tx;
  });
}

export function withoutPostgres(): void {
  const evkit = createEvkit({ source: '/orders', catalogue, registry, kafka });
  // @ts-expect-error dedupe needs postgres
  evkit.consumer({ groupId: 'billing', topics: ['orders'], dedupe: true });
  // @ts-expect-error the outbox needs postgres
  void evkit.inTransaction(async () => {});
}
