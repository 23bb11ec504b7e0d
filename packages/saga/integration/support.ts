import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import type { CloudEvent } from '@evkit/envelope';
import { createEvkit, type Evkit } from '@evkit/service';
import { createLocalStack } from '@evkit/stack';
import type { Logger } from '@evkit/telemetry';
import type { SagaDefinition } from '@evkit/saga';

// An order saga against the real stack, with fake participants (inventory, payments, shipping)
// whose answers each test scripts per saga. Names are unique per test file.

export const { endpoints } = createLocalStack();

const Msg = { type: 'record', name: 'SagaMsg', namespace: 'test.saga', fields: [{ name: 'orderId', type: 'string' }, { name: 'info', type: 'string' }] } as const;
export interface Msg {
  orderId: string;
  info: string;
}
const TYPES = [
  'stock.reserve', 'stock.reserved', 'stock.rejected', 'stock.release', 'stock.released',
  'payment.charge', 'payment.charged', 'payment.declined', 'payment.refund',
  'ship.request', 'ship.shipped', 'ship.failed',
] as const;
export type Events = { [K in (typeof TYPES)[number]]: Msg };
const catalogue = { schemas: Object.fromEntries(TYPES.map((t) => [t, Msg])) as { [K in keyof Events]: object }, dataTypes: undefined as Events | undefined };

export interface Order {
  orderId: string;
  paymentId?: string;
}

export interface Names {
  run: string;
  commands: string;
  replies: string;
  table: string;
}

export function namesFor(): Names {
  const run = randomUUID().slice(0, 8);
  return { run, commands: `evkit.it.saga.${run}.commands`, replies: `evkit.it.saga.${run}.replies`, table: `evkit_it_saga_${run}` };
}

const quiet: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: (m, f) => process.stderr.write(`${m} ${JSON.stringify(f ?? {})}\n`) };

export function makeEvkit(pool: Pool): Evkit<Events, true> {
  return createEvkit({ source: '/it-orders', catalogue, kafka: { brokers: endpoints.kafkaBrokers }, registry: { url: endpoints.registryUrl }, postgres: { pool }, logger: quiet });
}

export function newPool(): Pool {
  const pool = new Pool({ connectionString: endpoints.postgresUrl, max: 12 });
  pool.on('error', () => {});
  return pool;
}

const cmd = <K extends keyof Events>(topic: string, type: K) => ({ topic, type, data: (d: Order) => ({ orderId: d.orderId, info: d.paymentId ?? '' }) });

/** reserve stock → charge payment (pivot) → ship; compensations release stock and refund. */
export function orderSaga(names: Names, timeoutMs = 4000): SagaDefinition<Events, Order> {
  return {
    name: `order-${names.run}`,
    steps: [
      { name: 'reserve-stock', command: cmd(names.commands, 'stock.reserve'), success: 'stock.reserved', failure: 'stock.rejected', compensation: cmd(names.commands, 'stock.release'), timeoutMs },
      {
        name: 'charge-payment',
        command: cmd(names.commands, 'payment.charge'),
        success: 'payment.charged',
        failure: 'payment.declined',
        onSuccess: (data, reply) => ({ ...data, paymentId: reply.data.info }),
        compensation: cmd(names.commands, 'payment.refund'),
        pivot: true,
        timeoutMs,
      },
      { name: 'ship', command: cmd(names.commands, 'ship.request'), success: 'ship.shipped', failure: 'ship.failed', retry: { attempts: 3, delayMs: 200 } },
    ],
  };
}

/** What a participant does with a command: reply with a type (after a delay), stay silent, or throw. */
export type Answer = { reply: keyof Events; delayMs?: number; info?: string; times?: number } | 'silent' | 'throw';
export type Script = (command: CloudEvent<Msg>, nth: number) => Answer | undefined;

const DEFAULT_REPLY: Partial<Record<keyof Events, keyof Events>> = {
  'stock.reserve': 'stock.reserved',
  'payment.charge': 'payment.charged',
  'ship.request': 'ship.shipped',
};

/**
 * One consumer for every participant: each command is recorded (once per event id: dedupe) and
 * answered as the saga's script says (by default with success), published inside the handler so
 * the reply inherits correlation (the saga id) and causation (the command id).
 */
export function participants(evkit: Evkit<Events, true>, names: Names, scripts: Map<string, Script>) {
  const received: CloudEvent<Msg>[] = [];
  const attempts = new Map<string, number>();
  const consumer = evkit.consumer({ groupId: `evkit-it-saga-participants-${names.run}`, topics: [names.commands], fromBeginning: true, retry: { attempts: 4, delaysMs: [200] } });
  const handle = async (event: CloudEvent<Msg>) => {
    const key = `${event.correlationid}:${event.type}`;
    const nth = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, nth);
    const script = scripts.get(event.correlationid ?? '');
    const fallback = DEFAULT_REPLY[event.type as keyof Events];
    const answer: Answer = script?.(event, nth) ?? (fallback ? { reply: fallback } : 'silent');
    if (answer === 'throw') throw new Error(`participant refuses ${event.type} (attempt ${nth})`);
    received.push(event);
    if (answer === 'silent') return;
    const send = async () => {
      for (let i = 0; i < (answer.times ?? 1); i += 1) {
        await evkit.publish(names.replies, { type: answer.reply, key: event.partitionkey!, data: { orderId: event.data.orderId, info: answer.info ?? `pay-${event.data.orderId}` } });
      }
    };
    // A delayed reply is published later, still as the answer to this command.
    if (answer.delayMs) setTimeout(() => void send().catch(() => {}), answer.delayMs);
    else await send();
  };
  for (const type of ['stock.reserve', 'stock.release', 'payment.charge', 'payment.refund', 'ship.request'] as const) {
    // A delayed reply still names the command as its cause: the event context follows timers.
    consumer.on(type, (event) => handle(event));
  }
  return { consumer, received };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The commands the saga wrote to the outbox, in outbox order. */
export async function commandsOf(pool: Pool, sagaId: string): Promise<{ id: string; type: string; causationid: string | null; correlationid: string }[]> {
  const { rows } = await pool.query<{ id: string; type: string; causationid: string | null; correlationid: string }>(`SELECT id::text, type, causationid, correlationid FROM evkit_outbox WHERE correlationid = $1 AND source = '/it-orders' ORDER BY seq`, [sagaId]);
  return rows;
}
