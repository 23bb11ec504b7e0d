import { MultipleErrors, NetworkError, ProtocolError, UserError } from '@platformatic/kafka';
import { connectOnce, TransportConfigError } from '@evkit/transport';
import { baseOptions, isRetriable, messageOf, platformaticErrors, protocolErrorIds, supportsNode } from './client';

describe('supportsNode', () => {
  it('takes the Node lines @platformatic/kafka 2.x runs on', () => {
    expect(['20.19.4', '22.21.0', '24.5.0', '23.11.0'].map((v) => supportsNode(v))).toEqual([false, false, false, false]);
    expect(['22.22.0', '22.23.5', '24.6.0', '25.0.0'].map((v) => supportsNode(v))).toEqual([true, true, true, true]);
    expect(supportsNode()).toBe(true); // these tests run on such a Node
  });
});

describe('baseOptions', () => {
  it('builds the client options with evkit defaults and a role suffix on the client id', () => {
    expect(baseOptions({ brokers: ['localhost:9092'] }, 'publisher')).toEqual({
      clientId: 'evkit-publisher',
      bootstrapBrokers: ['localhost:9092'],
      retries: 5,
      retryDelay: 250,
      autocreateTopics: false,
    });
  });

  it('passes TLS, SASL and timeouts through unchanged', () => {
    const tls = { rejectUnauthorized: true, ca: 'pem' };
    const sasl = { mechanism: 'SCRAM-SHA-512' as const, username: 'svc', password: 'hunter2' };
    const options = baseOptions({ brokers: ['[::1]:9093'], clientId: 'orders', tls, sasl, connectTimeout: 100, requestTimeout: 2000, retries: 0, retryDelay: 10 }, 'admin');
    expect(options).toMatchObject({ clientId: 'orders-admin', tls, sasl, connectTimeout: 100, requestTimeout: 2000, retries: 0, retryDelay: 10 });
    expect(options.tls).toBe(tls);
    expect(options.sasl).toBe(sasl);
  });

  it.each([
    [{ brokers: [] }, /brokers/],
    [{ brokers: ['no-port'] }, /brokers/],
    [{ brokers: ['a:1'], clientId: 'has space' }, /clientId/],
    [{ brokers: ['a:1'], connectTimeout: 0 }, /connectTimeout/],
    [{ brokers: ['a:1'], requestTimeout: 1.5 }, /requestTimeout/],
    [{ brokers: ['a:1'], retries: -1 }, /retries/],
    [{ brokers: ['a:1'], retryDelay: -5 }, /retryDelay/],
    [{ brokers: ['a:1'], tls: 'yes' }, /tls/],
    [{ brokers: ['a:1'], sasl: { username: 'u' } }, /sasl/],
  ])('refuses %j', (options, message) => {
    expect(() => baseOptions(options as never, 'publisher')).toThrow(TransportConfigError);
    expect(() => baseOptions(options as never, 'publisher')).toThrow(message);
  });

  it('never puts a SASL password in its error', () => {
    try {
      baseOptions({ brokers: ['bad'], sasl: { mechanism: 'PLAIN', username: 'u', password: 'hunter2' } }, 'publisher');
    } catch (error) {
      expect(String((error as Error).message)).not.toContain('hunter2');
    }
  });
});

describe('error classification', () => {
  it('reads retriable from the client errors, a non-retriable one anywhere winning', () => {
    expect(isRetriable(new NetworkError('Connection closed'))).toBe(true);
    expect(isRetriable(new MultipleErrors('produce failed 3 times.', [new NetworkError('a'), new NetworkError('b')]))).toBe(true);
    expect(isRetriable(new ProtocolError('MESSAGE_TOO_LARGE'))).toBe(false);
    expect(isRetriable(new MultipleErrors('x', [new NetworkError('a'), new UserError('Client closed')]))).toBe(false);
    expect(isRetriable(new Error('plain'))).toBe(false);
  });

  it('finds protocol error ids inside aggregates', () => {
    const error = new MultipleErrors('commit failed', [new ProtocolError('ILLEGAL_GENERATION')]);
    expect(protocolErrorIds(error)).toEqual(['ILLEGAL_GENERATION']);
  });

  it('says what went wrong inside the client aggregates, without credentials', () => {
    const error = new MultipleErrors('produce failed 2 times.', [new NetworkError('Connection to kafka:9092 closed'), new NetworkError('password=hunter2 refused')]);
    const message = messageOf(error);
    expect(message).toContain('produce failed 2 times.');
    expect(message).toContain('Connection to kafka:9092 closed');
    expect(message).not.toContain('hunter2');
  });
});

describe('connectOnce with the client errors', () => {
  it('shares one attempt, forgets a failed one and types the failure, retriable as the client says', async () => {
    let calls = 0;
    const connection = connectOnce(() => {
      calls += 1;
      return calls === 1 ? Promise.reject(new NetworkError('refused')) : Promise.resolve();
    }, 'publisher', platformaticErrors);
    const [a, b] = [connection.connect(), connection.connect()];
    await expect(a).rejects.toMatchObject({ code: 'EVKIT_TRANSPORT_CONNECT_FAILED', retriable: true });
    await expect(b).rejects.toMatchObject({ code: 'EVKIT_TRANSPORT_CONNECT_FAILED' });
    await expect(connection.connect()).resolves.toBeUndefined();
    expect(calls).toBe(2);
  });
});
