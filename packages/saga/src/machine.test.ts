import type { CloudEvent } from '@evkit/envelope';
import { compileSaga, type SagaDefinition } from './definition';
import { SagaConfigError } from './errors';
import { begin, next, type SagaState, type Transition } from './machine';

interface Events {
  'stock.reserve': { orderId: string };
  'stock.release': { orderId: string };
  'stock.reserved': { orderId: string };
  'stock.rejected': { orderId: string };
  'stock.released': { orderId: string };
  'payment.charge': { orderId: string };
  'payment.refund': { orderId: string; paymentId: string };
  'payment.charged': { orderId: string; paymentId: string };
  'payment.declined': { orderId: string };
  'shipping.ship': { orderId: string };
  'shipping.shipped': { orderId: string };
  'shipping.failed': { orderId: string };
}
interface Order {
  orderId: string;
  paymentId?: string;
}

const command = <K extends keyof Events>(type: K, topic: string) => ({ topic, type, data: (d: Order) => ({ orderId: d.orderId }) as Events[K] });

function orderSaga(overrides: { pivot?: boolean; releaseAwaited?: boolean } = {}): SagaDefinition<Events, Order> {
  return {
    name: 'order',
    steps: [
      {
        name: 'reserve-stock',
        command: command('stock.reserve', 'inventory'),
        success: 'stock.reserved',
        failure: 'stock.rejected',
        compensation: { ...command('stock.release', 'inventory'), ...(overrides.releaseAwaited ? { success: 'stock.released', timeoutMs: 1000, retry: { attempts: 2 } } : {}) },
        timeoutMs: 5000,
      },
      {
        name: 'charge-payment',
        command: command('payment.charge', 'payments'),
        success: 'payment.charged',
        failure: 'payment.declined',
        onSuccess: (data, reply) => ({ ...data, paymentId: (reply.data as { paymentId: string }).paymentId }),
        compensation: { topic: 'payments', type: 'payment.refund', data: (d) => ({ orderId: d.orderId, paymentId: d.paymentId ?? '' }) },
        pivot: overrides.pivot ?? true,
        timeoutMs: 5000,
      },
      { name: 'ship', command: command('shipping.ship', 'shipping'), success: 'shipping.shipped', failure: 'shipping.failed', retry: { attempts: 2, delayMs: 100 } },
    ],
  };
}

const reply = (type: string, causationid?: string, data: object = {}): { kind: 'reply'; event: CloudEvent<unknown> } => ({
  kind: 'reply',
  event: { id: `r-${type}`, type, source: '/t', specversion: '1.0', data, ...(causationid ? { causationid } : {}) } as CloudEvent<unknown>,
});

/** Applies a transition as the orchestrator does: awaited sends' ids join `awaiting`. */
function settle(t: Transition<Order>, ids: string[] = t.sends.map((s, i) => `cmd-${s.step}-${s.kind}-${s.attempt}-${i}`)): SagaState<Order> {
  return { ...t.state, awaiting: [...t.state.awaiting, ...ids.filter((_, i) => t.sends[i]!.awaited)] };
}
const sends = (t: Transition<Order>) => t.sends.map((s) => `${s.kind}:${s.step}#${s.attempt}`);

describe('the saga state machine', () => {
  const saga = compileSaga(orderSaga());

  it('runs every step in order on success replies and completes, taking data from replies', () => {
    const started = begin(saga, { orderId: 'o-1' });
    expect(sends(started)).toEqual(['command:0#1']);
    expect(started.timer).toEqual({ kind: 'timeout', inMs: 5000 });
    expect(started.history.map((h) => h.kind)).toEqual(['started']);
    let state = settle(started);
    const reserved = next(saga, state, reply('stock.reserved', state.awaiting[0]));
    expect(sends(reserved)).toEqual(['command:1#1']);
    state = settle(reserved);
    const charged = next(saga, state, reply('payment.charged', state.awaiting[0], { paymentId: 'p-9' }));
    expect(charged.state.data).toEqual({ orderId: 'o-1', paymentId: 'p-9' });
    expect(charged.timer).toBeUndefined(); // ship has no timeout: the old timer is cleared
    state = settle(charged);
    const shipped = next(saga, state, reply('shipping.shipped'));
    expect(shipped.state.status).toBe('completed');
    expect(shipped.sends).toEqual([]);
    expect(shipped.history.map((h) => h.kind)).toEqual(['step-succeeded', 'completed']);
  });

  it('compensates completed steps in reverse order when the pivot fails, the failed step not at all', () => {
    let state = settle(begin(saga, { orderId: 'o-1' }));
    state = settle(next(saga, state, reply('stock.reserved')));
    const declined = next(saga, state, reply('payment.declined'));
    expect(sends(declined)).toEqual(['compensation:0#1']);
    expect(declined.state.status).toBe('compensated');
    expect(declined.history.map((h) => h.kind)).toEqual(['step-failed', 'compensated']);
  });

  it('after a timeout before the pivot compensates the timed-out step too (it may act late), newest first', () => {
    let state = settle(begin(saga, { orderId: 'o-1' }));
    state = settle(next(saga, state, reply('stock.reserved')));
    const timedOut = next(saga, state, { kind: 'timeout' });
    expect(sends(timedOut)).toEqual(['compensation:1#1', 'compensation:0#1']);
    expect(timedOut.state.status).toBe('compensated');
  });

  it('goes forward after the pivot: the failed step is sent again after its delay, then the saga is stuck', () => {
    let state = settle(begin(saga, { orderId: 'o-1' }));
    state = settle(next(saga, state, reply('stock.reserved')));
    state = settle(next(saga, state, reply('payment.charged', undefined, { paymentId: 'p' })));
    const failed = next(saga, state, reply('shipping.failed'));
    expect(failed.sends).toEqual([]);
    expect(failed.timer).toEqual({ kind: 'resend', inMs: 100 });
    expect(failed.state).toMatchObject({ status: 'running', step: 2, attempt: 2 });
    const resent = next(saga, failed.state, { kind: 'resend' });
    expect(sends(resent)).toEqual(['command:2#2']);
    state = settle(resent);
    const again = next(saga, state, reply('shipping.failed'));
    expect(again.state.status).toBe('stuck');
    expect(again.history.map((h) => h.kind)).toEqual(['step-failed', 'stuck']);
  });

  it('ignores replies it does not wait for, replies to other commands, and every reply once finished', () => {
    let state = settle(begin(saga, { orderId: 'o-1' }));
    expect(next(saga, state, reply('payment.charged')).outcome).toBe('ignored');
    const other = next(saga, state, reply('stock.reserved', 'some-other-command'));
    expect(other.outcome).toBe('ignored');
    expect(other.history[0]!.detail).toMatch(/answers some-other-command/);
    state = settle(next(saga, state, reply('stock.rejected')));
    expect(state.status).toBe('compensated');
    const late = next(saga, state, reply('stock.reserved'));
    expect(late).toMatchObject({ outcome: 'ignored', sends: [], history: [{ kind: 'ignored', detail: 'the saga is compensated' }] });
  });

  it('waits for each awaited compensation, retries it on failure or timeout, then gives up as stuck', () => {
    const awaiting = compileSaga(orderSaga({ pivot: false, releaseAwaited: true }));
    let state = settle(begin(awaiting, { orderId: 'o-1' }));
    state = settle(next(awaiting, state, reply('stock.reserved')));
    const declined = next(awaiting, state, reply('payment.declined'));
    expect(sends(declined)).toEqual(['compensation:0#1']);
    expect(declined.state).toMatchObject({ status: 'compensating', step: 0 });
    expect(declined.timer).toEqual({ kind: 'timeout', inMs: 1000 });
    state = settle(declined);
    const retried = next(awaiting, state, { kind: 'timeout' });
    expect(sends(retried)).toEqual(['compensation:0#2']);
    state = settle(retried);
    // The first send's late confirmation counts: it answers a command of this compensation.
    const confirmed = next(awaiting, state, reply('stock.released', state.awaiting[0]));
    expect(confirmed.state.status).toBe('compensated');
    expect(next(awaiting, state, { kind: 'timeout' }).state.status).toBe('stuck');
  });

  it('rejects definitions that cannot be run', () => {
    const bad = (change: (steps: Record<string, unknown>[], d: SagaDefinition<Events, Order>) => void) => {
      const d = orderSaga();
      change(d.steps as unknown as Record<string, unknown>[], d);
      return () => compileSaga(d);
    };
    expect(bad((steps) => (steps[0]!.pivot = true))).toThrow(/one pivot at most/);
    expect(bad((steps) => (steps[2]!.compensation = command('stock.release', 'inventory')))).toThrow(/after the pivot/);
    expect(bad((steps) => (steps[1]!.name = 'reserve-stock'))).toThrow(/used twice/);
    expect(bad((steps) => (steps[0]!.success = []))).toThrow(/success must be an event type/);
    expect(bad((steps) => (steps[0]!.timeoutMs = 0))).toThrow(/timeoutMs must be a positive/);
    expect(bad((steps) => (steps[0]!.failure = 'stock.reserved'))).toThrow(/both a success and a failure/);
    expect(bad((_, d) => (d.name = 'no spaces'))).toThrow(/saga name/);
    expect(() => compileSaga({ name: 'x', steps: [] })).toThrow(SagaConfigError);
  });
});
