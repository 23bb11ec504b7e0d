import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { applyConnectorConfig, loadConnectorFile, restartAndWait, waitUntilRunning } from './apply';
import { createConnectClient, type ConnectClient } from './client';
import { ConnectConfigError, ConnectorConfigInvalidError, ConnectorFailedError, ConnectorNotRunningError, ConnectVariableMissingError } from './errors';
import { startFakeConnect, statusOf, VALID, type FakeConnect } from './fake-connect.test-support';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evkit-connect-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function file(content: unknown): string {
  const target = path.join(dir, `${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(target, typeof content === 'string' ? content : JSON.stringify(content));
  return target;
}

const CLASS = 'io.debezium.connector.postgresql.PostgresConnector';
const running = (name: string) => statusOf(name, 'RUNNING', [{ id: 0, state: 'RUNNING', worker_id: 'w' }]);

describe('loadConnectorFile', () => {
  it('substitutes placeholders in the name and every value, and makes numbers strings', () => {
    const loaded = loadConnectorFile(
      file({ name: '${NAME:-outbox}', config: { 'connector.class': CLASS, 'database.port': 5432, 'database.hostname': '${HOST}', 'database.password': '${DB_PASSWORD}', flag: true } }),
      { HOST: 'db', DB_PASSWORD: 'pw-123' },
    );
    expect(loaded).toEqual({
      name: 'outbox',
      config: { 'connector.class': CLASS, 'database.port': '5432', 'database.hostname': 'db', 'database.password': 'pw-123', flag: 'true' },
      secrets: ['pw-123', 'pw-123'],
    });
  });

  it('names every missing variable at once, never a value', () => {
    let error: ConnectVariableMissingError | undefined;
    try {
      loadConnectorFile(file({ name: 'x', config: { 'connector.class': CLASS, a: '${A}', b: '${B} ${A}', 'database.password': 'literal-secret' } }), {});
    } catch (e) {
      error = e as ConnectVariableMissingError;
    }
    expect(error).toBeInstanceOf(ConnectVariableMissingError);
    expect(error!.variables).toEqual(['A', 'B']);
    expect(error!.message).toMatch(/A, B not set/);
    expect(error!.message).not.toContain('literal-secret');
  });

  it('refuses unreadable, non-JSON and misshapen files with ConnectConfigError', () => {
    expect(() => loadConnectorFile(path.join(dir, 'missing.json'), {})).toThrow(/ENOENT/);
    expect(() => loadConnectorFile(file('{not json'), {})).toThrow(/not JSON/);
    expect(() => loadConnectorFile(file({ config: {} }), {})).toThrow(ConnectConfigError);
    expect(() => loadConnectorFile(file({ name: 'x', config: { a: { nested: 1 } } }), {})).toThrow(/config.a must be/);
    expect(() => loadConnectorFile(file({ name: 'x', config: { a: 'b' } }), {})).toThrow(/no connector.class/);
  });

  it('loads the shipped outbox connector with only the database variables set', () => {
    const shipped = path.resolve(__dirname, '../../../connect-configs/outbox-connector.json');
    const env = { EVKIT_OUTBOX_DB_HOST: 'db', EVKIT_OUTBOX_DB_USER: 'u', EVKIT_OUTBOX_DB_PASSWORD: 'p4ss-word', EVKIT_OUTBOX_DB_NAME: 'app' };
    const { name, config, secrets } = loadConnectorFile(shipped, env);
    expect(name).toBe('evkit-outbox');
    expect(config).toMatchObject({ 'database.port': '5432', 'slot.name': 'evkit_outbox', 'table.include.list': 'public\\.evkit_outbox' });
    expect(config['transforms.outbox.route.topic.replacement']).toBe('${routedByValue}');
    expect(secrets).toContain('p4ss-word');
    expect(() => loadConnectorFile(shipped, {})).toThrow(/EVKIT_OUTBOX_DB_HOST, EVKIT_OUTBOX_DB_USER, EVKIT_OUTBOX_DB_PASSWORD, EVKIT_OUTBOX_DB_NAME/);
  });
});

describe('applyConnectorConfig', () => {
  let connect: FakeConnect;
  let client: ConnectClient;
  const connectorFile = () => file({ name: 'orders', config: { 'connector.class': CLASS, 'database.password': '${DB_PASSWORD}' } });
  const env = { DB_PASSWORD: 'pw-secret-1' };
  const fast = { pollIntervalMs: 5, settleMs: 0, timeoutMs: 500 };
  beforeEach(async () => {
    connect = await startFakeConnect();
    client = createConnectClient({ url: connect.url });
    connect.answer('PUT', `/connector-plugins/${encodeURIComponent(CLASS)}/config/validate`, 200, VALID);
  });
  afterEach(() => connect.close());

  it('creates a missing connector and waits until it and its tasks run', async () => {
    connect.answer('PUT', '/connectors/orders/config', 201, { name: 'orders', config: {}, tasks: [], type: 'source' });
    connect.answer('GET', '/connectors/orders/status', 200, running('orders'));
    const result = await applyConnectorConfig({ client, file: connectorFile(), env, ...fast });
    expect(result).toEqual({ name: 'orders', action: 'created', status: running('orders') });
    expect(connect.requests.find((r) => r.method === 'PUT' && r.path === '/connectors/orders/config')?.body).toEqual({
      'connector.class': CLASS,
      'database.password': 'pw-secret-1',
    });
  });

  it('writes nothing when the config in place is the same (a write would restart the connector)', async () => {
    connect.answer('GET', '/connectors/orders/config', 200, { 'connector.class': CLASS, 'database.password': 'pw-secret-1', name: 'orders' });
    connect.answer('GET', '/connectors/orders/status', 200, running('orders'));
    expect((await applyConnectorConfig({ client, file: connectorFile(), env, ...fast })).action).toBe('unchanged');
    expect(connect.requests.some((r) => r.method === 'PUT' && r.path.startsWith('/connectors/'))).toBe(false);
  });

  it('lists every key validation refused, with secrets masked, before writing anything', async () => {
    connect.answer('PUT', `/connector-plugins/${encodeURIComponent(CLASS)}/config/validate`, 200, {
      ...VALID,
      error_count: 2,
      configs: [
        { definition: {}, value: { name: 'database.password', value: 'pw-secret-1', recommended_values: [], errors: ['pw-secret-1 refused'], visible: true } },
        { definition: {}, value: { name: 'slot.name', value: 'A', recommended_values: [], errors: ['must be lower case'], visible: true } },
        { definition: {}, value: { name: 'ok', value: 'x', recommended_values: [], errors: [], visible: true } },
      ],
    });
    const error = (await applyConnectorConfig({ client, file: connectorFile(), env, ...fast }).catch((e: unknown) => e)) as ConnectorConfigInvalidError;
    expect(error).toBeInstanceOf(ConnectorConfigInvalidError);
    expect(error.problems).toEqual([
      { key: 'database.password', errors: ['*** refused'] },
      { key: 'slot.name', errors: ['must be lower case'] },
    ]);
    expect(error.message).not.toContain('pw-secret-1');
    expect(connect.requests.some((r) => r.method === 'PUT' && r.path.startsWith('/connectors/'))).toBe(false);
  });

  it('reports a FAILED task with its trace, the secret masked', async () => {
    connect.answer('PUT', '/connectors/orders/config', 200, { name: 'orders', config: {}, tasks: [], type: 'source' });
    const trace = 'org.apache.kafka.connect.errors.ConnectException: boom\n\tat X\nCaused by: org.postgresql.PSQLException: bad password pw-secret-1\n\tat Y';
    connect.answer('GET', '/connectors/orders/status', 200, statusOf('orders', 'RUNNING', [{ id: 0, state: 'FAILED', worker_id: 'w', trace }]));
    const error = (await applyConnectorConfig({ client, file: connectorFile(), env, ...fast }).catch((e: unknown) => e)) as ConnectorFailedError;
    expect(error).toBeInstanceOf(ConnectorFailedError);
    expect(error.failures).toEqual([{ what: 'task 0', trace: trace.replace('pw-secret-1', '***') }]);
    expect(error.message).toBe('connector orders failed: task 0: org.apache.kafka.connect.errors.ConnectException: boom <- org.postgresql.PSQLException: bad password ***');
    expect(JSON.stringify(error.status)).not.toContain('pw-secret-1');
  });
});

describe('waitUntilRunning and restartAndWait', () => {
  let connect: FakeConnect;
  let client: ConnectClient;
  beforeEach(async () => {
    connect = await startFakeConnect();
    client = createConnectClient({ url: connect.url });
  });
  afterEach(() => connect.close());

  it('times out with the states it last saw', async () => {
    connect.answer('GET', '/connectors/c/status', 200, statusOf('c', 'RUNNING', [{ id: 0, state: 'UNASSIGNED', worker_id: 'w' }]));
    await expect(waitUntilRunning({ client, name: 'c', timeoutMs: 50, pollIntervalMs: 10 })).rejects.toThrow(
      new ConnectorNotRunningError('connector c not RUNNING after 50 ms (connector RUNNING, task 0 UNASSIGNED)', undefined),
    );
  });

  it('does not wait the whole timeout for a connector that stays PAUSED', async () => {
    connect.answer('GET', '/connectors/c/status', 200, statusOf('c', 'PAUSED', [{ id: 0, state: 'PAUSED', worker_id: 'w' }]));
    const started = Date.now();
    await expect(waitUntilRunning({ client, name: 'c', timeoutMs: 60_000, pollIntervalMs: 100 })).rejects.toThrow(/is PAUSED/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('restarts the connector with its tasks by default, then waits', async () => {
    connect.answer('POST', '/connectors/c/restart?includeTasks=true&onlyFailed=false', 202, statusOf('c', 'RESTARTING'));
    connect.answer('GET', '/connectors/c/status', 200, running('c'));
    expect(await restartAndWait({ client, name: 'c', settleMs: 0 })).toEqual(running('c'));
  });
});
