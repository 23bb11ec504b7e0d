import type { Pool } from 'pg';
import { run } from '@evkit/cli';
import { createSaga, createSagaInspector, type Saga } from '@evkit/saga';
import type { Evkit } from '@evkit/service';
import { commandsOf, endpoints, makeEvkit, namesFor, newPool, orderSaga, participants, waitFor, type Events, type Order, type Script } from './support';

// The order saga on the real stack: reserve stock → charge payment (pivot) → ship, with
// participants scripted per saga. One saga orchestrator and one participant group for the file
// (a group join costs seconds); each test begins sagas of its own.
const names = namesFor();
let pool: Pool;
let evkit: Evkit<Events, true>;
let saga: Saga<Order>;
const scripts = new Map<string, Script>();
let received: ReturnType<typeof participants>['received'];

beforeAll(async () => {
  pool = newPool();
  evkit = makeEvkit(pool);
  await evkit.migrate();
  saga = createSaga({
    evkit,
    definition: orderSaga(names),
    replyTopics: [names.replies],
    table: names.table,
    timers: { intervalMs: 100 },
    consumer: { fromBeginning: true, retry: { attempts: 3, delaysMs: [200] } },
  });
  await saga.migrate();
  const parts = participants(evkit, names, scripts);
  received = parts.received;
  await Promise.all([parts.consumer.start(), saga.start()]);
  evkit.startRelay({ intervalMs: 100 });
}, 120_000);

afterAll(async () => {
  await saga?.stop();
  await evkit?.close();
  await pool?.query(`DROP TABLE IF EXISTS ${names.table}_history, ${names.table}_timeouts, ${names.table}`);
  await pool?.end();
}, 60_000);

const begin = (orderId: string, script?: Script) => {
  if (script) scripts.set(orderId, script);
  return evkit.inTransaction((tx) => saga.begin(tx, { id: orderId, data: { orderId } }));
};
const finished = (id: string, timeoutMs = 45_000) =>
  waitFor(`saga ${id} finished`, async () => {
    const s = await saga.show(id);
    return ['completed', 'compensated', 'stuck'].includes(s.status) ? s : undefined;
  }, timeoutMs);
const kinds = (history: { kind: string; step: string | null }[]) => history.map((h) => (h.step ? `${h.kind} ${h.step}` : h.kind));
const typesReceived = (id: string) => received.filter((e) => e.correlationid === id).map((e) => e.type);

describe('an orchestrated saga on Kafka and PostgreSQL', () => {
  it('runs the happy path: each command through the outbox, correlated by the saga id and caused by the reply before it', async () => {
    const id = `happy-${names.run}`;
    const { commandId } = await begin(id);
    const done = await finished(id);
    expect(done.status).toBe('completed');
    expect(done.data).toEqual({ orderId: id, paymentId: `pay-${id}` });
    expect(done.timer).toBeNull();
    expect(kinds(done.history)).toEqual([
      'started', 'command-sent reserve-stock',
      'step-succeeded reserve-stock', 'command-sent charge-payment',
      'step-succeeded charge-payment', 'command-sent ship',
      'step-succeeded ship', 'completed',
    ]);
    const commands = await commandsOf(pool, id);
    expect(commands.map((c) => c.type)).toEqual(['stock.reserve', 'payment.charge', 'ship.request']);
    expect(commands[0]!.id).toBe(commandId);
    expect(commands[0]!.causationid).toBeNull(); // begun outside any handler
    // Each later command was caused by the success reply of the step before.
    const replies = done.history.filter((h) => h.kind === 'step-succeeded').map((h) => h.eventId);
    expect(commands.slice(1).map((c) => c.causationid)).toEqual(replies.slice(0, 2));
    expect(new Set(commands.map((c) => c.correlationid))).toEqual(new Set([id]));
    expect(done.version).toBe(4);
  }, 60_000);

  it('compensates in reverse order when the pivot fails: a timed-out charge is refunded, then the stock released', async () => {
    const declined = `declined-${names.run}`;
    const timedOut = `timeout-${names.run}`;
    await begin(declined, (c) => (c.type === 'payment.charge' ? { reply: 'payment.declined' } : undefined));
    await begin(timedOut, (c) => (c.type === 'payment.charge' ? 'silent' : undefined));
    const a = await finished(declined);
    expect(a.status).toBe('compensated');
    expect((await commandsOf(pool, declined)).map((c) => c.type)).toEqual(['stock.reserve', 'payment.charge', 'stock.release']);
    const b = await finished(timedOut);
    expect(b.status).toBe('compensated');
    expect(kinds(b.history).slice(-4)).toEqual(['step-timed-out charge-payment', 'compensated', 'compensation-sent charge-payment', 'compensation-sent reserve-stock']);
    expect((await commandsOf(pool, timedOut)).map((c) => c.type)).toEqual(['stock.reserve', 'payment.charge', 'payment.refund', 'stock.release']);
    // The participants got them in that order too (one key, one partition).
    await waitFor('compensations received', () => typesReceived(timedOut).length === 4 || undefined);
    expect(typesReceived(timedOut)).toEqual(['stock.reserve', 'payment.charge', 'payment.refund', 'stock.release']);
  }, 60_000);

  it('recovers forward after the pivot: a failed shipment is retried, one that keeps failing leaves the saga stuck, never compensated', async () => {
    const once = `ship-once-${names.run}`;
    const always = `ship-never-${names.run}`;
    await begin(once, (c, nth) => (c.type === 'ship.request' && nth === 1 ? { reply: 'ship.failed' } : undefined));
    await begin(always, (c) => (c.type === 'ship.request' ? { reply: 'ship.failed' } : undefined));
    expect((await finished(once)).status).toBe('completed');
    expect((await commandsOf(pool, once)).map((c) => c.type)).toEqual(['stock.reserve', 'payment.charge', 'ship.request', 'ship.request']);
    const stuck = await finished(always);
    expect(stuck.status).toBe('stuck');
    const types = (await commandsOf(pool, always)).map((c) => c.type);
    expect(types).toEqual(['stock.reserve', 'payment.charge', 'ship.request', 'ship.request', 'ship.request']);
    expect(kinds(stuck.history).slice(-2)).toEqual(['step-failed ship', 'stuck ship']);
  }, 60_000);

  it('absorbs duplicate replies, records late ones and replies to a finished saga, and never crashes', async () => {
    const id = `dupes-${names.run}`;
    // Every success reply twice (two events), and a reserve reply again once the saga is done.
    await begin(id, (c) => (c.type === 'stock.reserve' ? { reply: 'stock.reserved', times: 2 } : c.type === 'payment.charge' ? { reply: 'payment.charged', times: 2 } : undefined));
    const done = await finished(id);
    expect(done.status).toBe('completed');
    // A late reply, delivered twice with one id: recorded once, the second absorbed by dedupe.
    const late = { id: '0190b6a4-0000-7000-8000-00000000beef'.replace('beef', names.run.slice(0, 4)), type: 'stock.reserved' as const, key: id, correlationid: id, data: { orderId: id, info: 'late' } };
    await evkit.publish(names.replies, late);
    await evkit.publish(names.replies, late);
    await waitFor('late reply recorded', async () => ((await saga.show(id)).history.some((h) => h.eventId === late.id) ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const after = await saga.show(id);
    expect(after.status).toBe('completed');
    expect(after.version).toBe(done.version); // ignored replies change nothing
    expect(after.history.filter((h) => h.kind === 'ignored').map((h) => h.detail)).toEqual([
      expect.stringMatching(/does not wait for stock.reserved/),
      expect.stringMatching(/does not wait for payment.charged/),
      'the saga is completed',
    ]);
    expect((await commandsOf(pool, id)).map((c) => c.type)).toEqual(['stock.reserve', 'payment.charge', 'ship.request']);
  }, 60_000);

  it('resolves a timeout racing its reply to exactly one outcome per saga', async () => {
    // Replies published around the 4 s deadline: some win, some lose; none may do both.
    const ids = Array.from({ length: 12 }, (_, i) => `race-${i}-${names.run}`);
    await Promise.all(ids.map((id, i) => begin(id, (c) => (c.type === 'stock.reserve' ? { reply: 'stock.reserved', delayMs: 3700 + i * 50 } : undefined))));
    const outcomes = { completed: 0, compensated: 0 };
    for (const id of ids) {
      const s = await finished(id);
      const succeeded = s.history.filter((h) => h.kind === 'step-succeeded' && h.step === 'reserve-stock').length;
      const timedOut = s.history.filter((h) => h.kind === 'step-timed-out' && h.step === 'reserve-stock').length;
      expect(succeeded + timedOut).toBe(1);
      const types = (await commandsOf(pool, id)).map((c) => c.type);
      if (timedOut === 1) {
        expect(s.status).toBe('compensated');
        expect(types).toEqual(['stock.reserve', 'stock.release']); // compensated once, not charged
        outcomes.compensated += 1;
      } else {
        expect(s.status).toBe('completed');
        expect(types).toEqual(['stock.reserve', 'payment.charge', 'ship.request']);
        outcomes.completed += 1;
      }
    }
    expect(outcomes.completed + outcomes.compensated).toBe(ids.length);
    process.stdout.write(`race outcomes: ${JSON.stringify(outcomes)}\n`);
  }, 90_000);

  it('sends a compensation that fails twice through the retries of the participant: applied once, the saga compensated', async () => {
    const id = `comp-retry-${names.run}`;
    await begin(id, (c, nth) => (c.type === 'payment.charge' ? { reply: 'payment.declined' } : c.type === 'stock.release' && nth <= 2 ? 'throw' : undefined));
    expect((await finished(id)).status).toBe('compensated');
    await waitFor('release applied', () => typesReceived(id).includes('stock.release') || undefined);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(typesReceived(id)).toEqual(['stock.reserve', 'payment.charge', 'stock.release']);
    expect((await commandsOf(pool, id)).filter((c) => c.type === 'stock.release')).toHaveLength(1);
  }, 60_000);

  it('is shown by `evkit saga list|show`, with its dead letters', async () => {
    const id = `dlq-${names.run}`;
    await begin(id, (c) => (c.type === 'ship.request' ? 'throw' : undefined));
    const dlq = `${names.commands}.evkit-it-saga-participants-${names.run}.dlq`;
    const lines: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => (lines.push(String(chunk)), true));
    try {
      const shown = await waitFor('dead letter shown', async () => {
        lines.length = 0;
        expect(await run(['saga', 'show', id, '--table', names.table, '--dlq', dlq, '--brokers', endpoints.kafkaBrokers.join(','), '--json'])).toBe(0);
        const details = JSON.parse(lines.join('')) as { status: string; step: string; deadLetters: { eventType: string }[] };
        return details.deadLetters.length > 0 ? details : undefined;
      }, 45_000);
      expect(shown).toMatchObject({ status: 'running', step: 'ship', deadLetters: [{ eventType: 'ship.request' }] });
      lines.length = 0;
      expect(await run(['saga', 'list', '--table', names.table, '--status', 'stuck'])).toBe(0);
      expect(lines.join('')).toContain(`ship-never-${names.run}`);
      lines.length = 0;
      expect(await run(['saga', 'show', id, '--table', names.table])).toBe(0);
      expect(lines.join('')).toMatch(/running at step ship[\s\S]*history:[\s\S]*command-sent ship/);
    } finally {
      spy.mockRestore();
    }
  }, 60_000);

  it('keeps timers across a restart: a timeout due while no orchestrator ran fires in the next one', async () => {
    const id = `restart-${names.run}`;
    await begin(id, (c) => (c.type === 'payment.charge' ? 'silent' : undefined));
    await waitFor('charging', async () => ((await saga.show(id)).step === 'charge-payment' ? true : undefined));
    await saga.stop();
    await waitFor('timer due', async () => {
      const s = await saga.show(id);
      return s.timer !== null && s.timer.dueAt.getTime() < Date.now() - 200 ? true : undefined;
    });
    expect((await saga.show(id)).status).toBe('running');
    const restarted = createSaga({ evkit, definition: orderSaga(names), replyTopics: [names.replies], table: names.table });
    expect(await restarted.fireDueTimers()).toBe(1);
    const s = await restarted.show(id);
    expect(s.status).toBe('compensated');
    expect((await commandsOf(pool, id)).map((c) => c.type)).toEqual(['stock.reserve', 'payment.charge', 'payment.refund', 'stock.release']);
    // The refund is caused by the charge that went unanswered.
    const commands = await commandsOf(pool, id);
    expect(commands[2]!.causationid).toBe(commands[1]!.id);
  }, 60_000);

  it('is inspected without its definition, and retention deletes finished sagas only', async () => {
    const own = createSagaInspector({ connectionString: endpoints.postgresUrl, table: names.table });
    expect((await own.list({ limit: 1000 })).length).toBeGreaterThan(10);
    await own.close();
    const viaPool = createSagaInspector({ pool, table: names.table });
    const stuck = await viaPool.list({ status: 'stuck' });
    expect(stuck.map((s) => s.id)).toEqual([`ship-never-${names.run}`]);
    await expect(viaPool.show('no-such-saga')).rejects.toMatchObject({ code: 'EVKIT_SAGA_NOT_FOUND' });
    const all = await viaPool.list({ limit: 1000 });
    const deleted = await viaPool.deleteFinishedOlderThan(0);
    expect(deleted).toBe(all.filter((s) => s.status === 'completed' || s.status === 'compensated').length);
    expect((await viaPool.list()).map((s) => s.status).sort()).toEqual(['running', 'stuck']);
  }, 60_000);
});
