import { createEvent } from './event';
import { activeEvent, correlationFor, runWithEventContext } from './event-context';

const handled = createEvent({ source: '/billing', type: 'order.placed', correlationid: 'flow-1', data: {} });

describe('event context', () => {
  it('has no active event outside a handler: a new event starts its own flow, or joins the one given', () => {
    expect(activeEvent()).toBeUndefined();
    expect(correlationFor({}, 'evt-1')).toEqual({ correlationid: 'evt-1' });
    expect(correlationFor({ correlationid: 'request-42' }, 'evt-1')).toEqual({ correlationid: 'request-42' });
  });

  it('carries the handled event through awaits and timers', async () => {
    const seen = await runWithEventContext(handled, async () => {
      await new Promise((r) => setTimeout(r, 5));
      await Promise.resolve();
      return activeEvent()?.id;
    });
    expect(seen).toBe(handled.id);
    expect(activeEvent()).toBeUndefined();
  });

  it('inherits the correlation id and names the handled event as the cause', () => {
    expect(runWithEventContext(handled, () => correlationFor({}, 'new-id'))).toEqual({ correlationid: 'flow-1', causationid: handled.id });
  });

  it('starts a flow at an event without a correlation id, and lets explicit values win', () => {
    const root = createEvent({ source: '/orders', type: 'order.requested', data: {} });
    expect(runWithEventContext(root, () => correlationFor({}, 'new-id'))).toEqual({ correlationid: root.id, causationid: root.id });
    expect(runWithEventContext(root, () => correlationFor({ correlationid: 'mine' }, 'new-id'))).toEqual({ correlationid: 'mine', causationid: root.id });
  });

  it('keeps concurrent handlers apart', async () => {
    const other = createEvent({ source: '/billing', type: 'order.placed', correlationid: 'flow-2', data: {} });
    const [a, b] = await Promise.all([
      runWithEventContext(handled, async () => {
        await new Promise((r) => setTimeout(r, 10));
        return correlationFor({}, 'x').correlationid;
      }),
      runWithEventContext(other, async () => {
        await new Promise((r) => setTimeout(r, 1));
        return correlationFor({}, 'y').correlationid;
      }),
    ]);
    expect([a, b]).toEqual(['flow-1', 'flow-2']);
  });
});
