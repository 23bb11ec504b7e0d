import { untilAborted } from './abandon';

describe('untilAborted', () => {
  it('settles as the work does while the signal stays quiet', async () => {
    await expect(untilAborted(Promise.resolve(1), new AbortController().signal, () => undefined)).resolves.toBe(1);
    await expect(untilAborted(Promise.reject(new Error('boom')), new AbortController().signal, () => undefined)).rejects.toThrow('boom');
  });

  it('rejects with the reason at the abort, calling onAbandon, while the work never settles', async () => {
    const abort = new AbortController();
    const abandoned = jest.fn();
    const call = untilAborted(new Promise<never>(() => undefined), abort.signal, abandoned);
    const reason = new Error('timed out');
    abort.abort(reason);
    await expect(call).rejects.toBe(reason);
    expect(abandoned).toHaveBeenCalledTimes(1);
  });

  it('gives up at once on a signal already aborted, and leaves no late rejection unhandled', async () => {
    const abort = new AbortController();
    abort.abort(new Error('stopping'));
    let fail!: (error: Error) => void;
    const work = new Promise<never>((_resolve, reject) => (fail = reject));
    await expect(untilAborted(work, abort.signal, () => undefined)).rejects.toThrow('stopping');
    fail(new Error('late')); // no unhandled rejection: jest would fail the run
    await new Promise((r) => setImmediate(r));
  });
});
