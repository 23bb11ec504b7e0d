import { TransportConfigError, TransportConnectError } from '@evkit/transport';
import { retryStart } from './start-retry';

const logger = { debug: jest.fn(), info: jest.fn(), warn: jest.fn(), error: jest.fn() };
const loading = () => new TransportConnectError('subscriber could not join group g: The coordinator is loading', { retriable: true });

describe('retryStart', () => {
  it('tries a retriable failure again until the start succeeds', async () => {
    const start = jest.fn().mockRejectedValueOnce(loading()).mockRejectedValueOnce(loading()).mockResolvedValueOnce(undefined);
    await retryStart(start, { timeoutMs: 10_000, signal: new AbortController().signal, logger });
    expect(start).toHaveBeenCalledTimes(3);
    expect(logger.warn).toHaveBeenCalledWith('consumer start failed; trying again', expect.objectContaining({ attempt: 2, code: 'EVKIT_TRANSPORT_CONNECT_FAILED' }));
  });

  it('throws a failure that is not retriable at once', async () => {
    const refused = new TransportConfigError('brokers must be a non-empty array');
    const start = jest.fn().mockRejectedValue(refused);
    await expect(retryStart(start, { timeoutMs: 10_000, signal: new AbortController().signal, logger })).rejects.toBe(refused);
    expect(start).toHaveBeenCalledTimes(1);
  });

  it('gives up with the last failure once the time is up', async () => {
    const start = jest.fn().mockRejectedValue(loading());
    const began = Date.now();
    await expect(retryStart(start, { timeoutMs: 1_000, signal: new AbortController().signal, logger })).rejects.toMatchObject({ retriable: true });
    expect(Date.now() - began).toBeLessThan(2_000);
    expect(start.mock.calls.length).toBeGreaterThan(1);
  });

  it('stops waiting when the consumer stops', async () => {
    const stop = new AbortController();
    const start = jest.fn().mockRejectedValue(loading());
    const retrying = retryStart(start, { timeoutMs: 60_000, signal: stop.signal, logger });
    setTimeout(() => stop.abort(), 50);
    await expect(retrying).rejects.toMatchObject({ retriable: true });
    expect(start).toHaveBeenCalledTimes(1);
  });
});
