import { HandlerAttempt } from './handler-attempt';

describe('HandlerAttempt', () => {
  it('aborts a signal already handed out, with the reason', () => {
    const stop = new AbortController();
    const attempt = new HandlerAttempt(stop.signal);
    const signal = attempt.signal;
    const reason = new Error('timed out');
    attempt.abort(reason);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe(reason);
  });

  it('hands out an aborted signal when the abort came before the handler asked', () => {
    const attempt = new HandlerAttempt(new AbortController().signal);
    const reason = new Error('timed out');
    attempt.abort(reason);
    attempt.abort(new Error('a later reason does not replace the first'));
    expect(attempt.signal.aborted).toBe(true);
    expect(attempt.signal.reason).toBe(reason);
  });

  it('follows the consumer stopping, before or after the signal is read', () => {
    const stop = new AbortController();
    const early = new HandlerAttempt(stop.signal);
    const signal = early.signal;
    stop.abort(new Error('stopping'));
    expect(signal.aborted).toBe(true);
    const late = new HandlerAttempt(stop.signal);
    expect(late.signal.reason).toBe(stop.signal.reason);
  });

  it('stops listening to the stop signal when done, and adds no listener unless read', () => {
    const stop = new AbortController();
    const added = jest.spyOn(stop.signal, 'addEventListener');
    const removed = jest.spyOn(stop.signal, 'removeEventListener');
    const unread = new HandlerAttempt(stop.signal);
    unread.done();
    expect(added).not.toHaveBeenCalled();
    const read = new HandlerAttempt(stop.signal);
    const signal = read.signal;
    read.done();
    expect(removed).toHaveBeenCalledTimes(1);
    stop.abort(new Error('stopping'));
    expect(signal.aborted).toBe(false);
  });
});
