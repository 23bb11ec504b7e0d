import { connectOnce, type ClientErrorReader } from './connect-once';
import { TransportConnectError } from './errors';

const errors: ClientErrorReader = {
  messageOf: (error) => `read: ${(error as Error).message}`,
  isRetriable: (error) => (error as { transient?: boolean }).transient === true,
};

describe('connectOnce', () => {
  it('shares one attempt between calls and resolves to nothing', async () => {
    const connect = jest.fn(() => Promise.resolve('a client answer'));
    const connection = connectOnce(connect, 'publisher', errors);
    await expect(Promise.all([connection.connect(), connection.connect()])).resolves.toEqual([undefined, undefined]);
    await connection.connect();
    expect(connect).toHaveBeenCalledTimes(1);
  });

  it('forgets a failed attempt, and types the failure with the client reading of the error', async () => {
    const refused = Object.assign(new Error('refused'), { transient: true });
    const connect = jest.fn().mockRejectedValueOnce(refused).mockResolvedValue(undefined);
    const connection = connectOnce(connect, 'subscriber', errors);
    const failure = connection.connect();
    await expect(failure).rejects.toBeInstanceOf(TransportConnectError);
    await expect(failure).rejects.toMatchObject({
      code: 'EVKIT_TRANSPORT_CONNECT_FAILED',
      message: 'subscriber could not connect to Kafka: read: refused',
      retriable: true,
      cause: refused,
    });
    await expect(connection.connect()).resolves.toBeUndefined();
    expect(connect).toHaveBeenCalledTimes(2);
  });

  it('connects again after reset', async () => {
    const connect = jest.fn(() => Promise.resolve());
    const connection = connectOnce(connect, 'publisher', errors);
    await connection.connect();
    connection.reset();
    await connection.connect();
    expect(connect).toHaveBeenCalledTimes(2);
  });
});
