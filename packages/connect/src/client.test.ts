import { createConnectClient } from './client';
import { ConnectConfigError, ConnectorNotFoundError, ConnectRequestError, ConnectUnavailableError } from './errors';
import { startFakeConnect, statusOf, type FakeConnect } from './fake-connect.test-support';

describe('createConnectClient', () => {
  let connect: FakeConnect;
  beforeEach(async () => {
    connect = await startFakeConnect();
  });
  afterEach(() => connect.close());

  it('validates its options at the edge, without echoing the URL (it may hold credentials)', () => {
    expect(() => createConnectClient({ url: 'not a url :pw@' })).toThrow(ConnectConfigError);
    expect(() => createConnectClient({ url: 'ftp://x' })).toThrow(/http or https/);
    expect(() => createConnectClient({ url: 'http://x', timeoutMs: 0 })).toThrow(/timeoutMs/);
  });

  it('moves credentials from the URL to basic auth and never shows them', async () => {
    const client = createConnectClient({ url: connect.url.replace('http://', 'http://admin:s3cret@') });
    connect.answer('GET', '/connectors', 200, ['a']);
    expect(await client.listConnectors()).toEqual(['a']);
    expect(client.url).toBe(connect.url);
    expect(connect.requests[0]!.authorization).toBe(`Basic ${Buffer.from('admin:s3cret').toString('base64')}`);
  });

  it('creates or updates with PUT .../config and says which', async () => {
    const client = createConnectClient({ url: connect.url });
    const info = { name: 'c', config: { 'connector.class': 'X', name: 'c' }, tasks: [], type: 'source' };
    connect.answer('PUT', '/connectors/c/config', 201, info);
    expect(await client.putConnectorConfig('c', { 'connector.class': 'X' })).toEqual({ created: true, connector: info });
    connect.answer('PUT', '/connectors/c/config', 200, info);
    expect((await client.putConnectorConfig('c', { 'connector.class': 'X' })).created).toBe(false);
    expect(connect.requests[0]).toMatchObject({ method: 'PUT', body: { 'connector.class': 'X' } });
  });

  it('restarts with includeTasks and onlyFailed, returning the status Connect answers', async () => {
    const client = createConnectClient({ url: connect.url });
    const restarting = statusOf('c', 'RESTARTING');
    connect.answer('POST', '/connectors/c/restart?includeTasks=true&onlyFailed=true', 202, restarting);
    expect(await client.restartConnector('c', { includeTasks: true, onlyFailed: true })).toEqual(restarting);
    connect.answer('POST', '/connectors/c/restart?includeTasks=false&onlyFailed=false', 204);
    expect(await client.restartConnector('c')).toBeUndefined();
  });

  it('types the REST errors: 404 of a connector, 409 retriable, 400 with its message, 503 unavailable', async () => {
    const client = createConnectClient({ url: connect.url });
    await expect(client.connectorStatus('ghost')).rejects.toBeInstanceOf(ConnectorNotFoundError);
    connect.answer('PUT', '/connectors/c/pause', 409, { error_code: 409, message: 'Cannot complete request because of a conflicting operation' });
    const conflict = await client.pauseConnector('c').catch((e: unknown) => e);
    expect(conflict).toBeInstanceOf(ConnectRequestError);
    expect(conflict).toMatchObject({ status: 409, retriable: true, restMessage: 'Cannot complete request because of a conflicting operation' });
    connect.answer('PUT', '/connector-plugins/PostgresConnector/config/validate', 400, { error_code: 400, message: 'Connector configuration is invalid' });
    await expect(client.validateConfig('PostgresConnector', {})).rejects.toMatchObject({ code: 'EVKIT_CONNECT_REQUEST_FAILED', status: 400, retriable: false });
    connect.answer('DELETE', '/connectors/c', 503, { error_code: 503, message: 'starting up' });
    await expect(client.deleteConnector('c')).rejects.toBeInstanceOf(ConnectUnavailableError);
  });

  it('reports an unreachable worker as retriable ConnectUnavailableError', async () => {
    const url = connect.url;
    await connect.close();
    connect = await startFakeConnect();
    const error = await createConnectClient({ url }).serverInfo().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectUnavailableError);
    expect((error as ConnectUnavailableError).retriable).toBe(true);
    expect((error as Error).message).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/: Kafka Connect unreachable: ECONNREFUSED/);
  });
});
