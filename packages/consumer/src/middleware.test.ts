import type { CloudEvent } from '@evkit/envelope';
import { HandlerTimeoutError } from './errors';
import type { HandlerContext } from './handler';
import { dedupe, timeout } from './middleware';

const event = { id: 'e-1', type: 'com.example.t' } as CloudEvent;
function contextFor(stop = new AbortController().signal): HandlerContext {
  return {
    record: { topic: 't', partition: 0, offset: '0' },
    groupId: 'g',
    schemaId: 1,
    signal: stop,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    transaction: undefined,
    duplicate: false,
  } as unknown as HandlerContext;
}

describe('timeout', () => {
  it('fails a handler that never settles with a retriable HandlerTimeoutError, aborting the signal it saw', async () => {
    let seen: AbortSignal | undefined;
    const handler = timeout(20)(async (_event, context) => {
      seen = context.signal;
      await new Promise(() => undefined);
    });
    const failure = await handler(event, contextFor()).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(HandlerTimeoutError);
    expect((failure as HandlerTimeoutError).retriable).toBe(true);
    expect(seen!.aborted).toBe(true);
  });

  it('gives each call a fresh signal (a blocking retry is a new attempt) and leaves the record’s untouched', async () => {
    const signals: AbortSignal[] = [];
    const context = contextFor();
    const handler = timeout(10)(async (_event, c) => {
      signals.push(c.signal);
      if (signals.length === 1) await new Promise(() => undefined);
    });
    await expect(handler(event, context)).rejects.toBeInstanceOf(HandlerTimeoutError);
    await handler(event, context);
    expect(signals.map((s) => s.aborted)).toEqual([true, false]);
    expect(context.signal.aborted).toBe(false);
  });

  it('passes the record’s duplicate flag through, but keeps each attempt’s transaction its own', async () => {
    const context = contextFor();
    await timeout(1000)(async (_event, c) => {
      c.transaction = 'tx';
      c.duplicate = true;
    })(event, context);
    expect(context.duplicate).toBe(true);
    expect(context.transaction).toBeUndefined();
  });
});

describe('dedupe', () => {
  const recordingStore = () => {
    const given: unknown[] = [];
    const store = {
      async runOnce<T>(_group: string, _id: string, work: (t: unknown) => Promise<T>, options?: { signal?: AbortSignal }) {
        given.push(options?.signal);
        return { duplicate: false as const, result: await work('tx') };
      },
    };
    return { store, given };
  };

  it('under the timeout, hands the store the attempt’s signal, so an abandoned attempt’s transaction ends', async () => {
    const { store, given } = recordingStore();
    const context = contextFor();
    let seen: AbortSignal | undefined;
    const chain = timeout(1000)(dedupe(store)(async (_event, c) => {
      expect(c.transaction).toBe('tx');
      seen = c.signal;
    }));
    await chain(event, context);
    expect(given).toHaveLength(1);
    expect(given[0]).toBeInstanceOf(AbortSignal);
    expect(given[0]).toBe(seen); // the timed attempt's, not the record's
    expect(given[0]).not.toBe(context.signal);
    expect(context.transaction).toBeUndefined();
  });

  it('without a timeout makes no signal: nothing abandons the attempt (stop waits for it)', async () => {
    const { store, given } = recordingStore();
    const context = contextFor();
    await dedupe(store)(async (_event, c) => expect(c.transaction).toBe('tx'))(event, context);
    expect(given).toEqual([undefined]);
    expect(context.transaction).toBeUndefined();
  });
});
