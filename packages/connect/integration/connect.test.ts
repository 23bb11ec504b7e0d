import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Pool } from 'pg';
import { createLocalStack } from '@evkit/stack';
import {
  applyConnectorConfig,
  ConnectorFailedError,
  ConnectorNotFoundError,
  ConnectorNotRunningError,
  createConnectClient,
  loadConnectorFile,
  restartAndWait,
  runConnectCli,
  waitUntilRunning,
} from '@evkit/connect';

// Against the local stack's Kafka Connect, with the Debezium PostgreSQL connector on a table of
// this run's own; the connector, slot and publication are removed afterwards.
const { endpoints } = createLocalStack();
const client = createConnectClient({ url: endpoints.connectUrl });
const pool = new Pool({ connectionString: endpoints.postgresUrl, max: 2 });
const run = randomUUID().replace(/-/g, '').slice(0, 10);
const table = `evkit_it_connect_${run}`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evkit-connect-it-'));
const pg = new URL(endpoints.postgresUrl);
const env = {
  IT_DB_HOST: pg.hostname,
  IT_DB_PORT: pg.port,
  IT_DB_USER: decodeURIComponent(pg.username),
  IT_DB_PASSWORD: decodeURIComponent(pg.password),
  IT_DB_NAME: pg.pathname.slice(1),
};
const names = { ok: `evkit-it-connect-${run}`, failing: `evkit-it-connect-failing-${run}` };
const slots = [`evkit_it_slot_${run}`, `evkit_it_slot_f_${run}`];

function connectorFile(name: string, overrides: Record<string, string>): string {
  const file = path.join(dir, `${name}.json`);
  const config = {
    'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
    'database.hostname': '${IT_DB_HOST}',
    'database.port': '${IT_DB_PORT:-5432}',
    'database.user': '${IT_DB_USER}',
    'database.password': '${IT_DB_PASSWORD}',
    'database.dbname': '${IT_DB_NAME}',
    'plugin.name': 'pgoutput',
    'slot.name': slots[0],
    'publication.name': `evkit_it_pub_${run}`,
    'publication.autocreate.mode': 'filtered',
    'table.include.list': `public\\.${table}`,
    'topic.prefix': `evkit-it-connect-${run}`,
    'snapshot.mode': 'no_data',
    ...overrides,
  };
  fs.writeFileSync(file, JSON.stringify({ name, config }));
  return file;
}

beforeAll(async () => {
  await pool.query(`CREATE TABLE ${table} (id int PRIMARY KEY)`);
});

afterAll(async () => {
  for (const name of Object.values(names)) {
    await client.deleteConnector(name).catch((error: unknown) => {
      if (!(error instanceof ConnectorNotFoundError)) throw error;
    });
  }
  for (const slot of slots) {
    for (let attempt = 0; attempt < 60; attempt += 1) {
      const { rows } = await pool.query<{ active: boolean }>('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [slot]);
      if (rows.length === 0) break;
      if (!rows[0]!.active) {
        await pool.query('SELECT pg_drop_replication_slot($1)', [slot]);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  await pool.query(`DROP PUBLICATION IF EXISTS evkit_it_pub_${run}`);
  await pool.query(`DROP TABLE IF EXISTS ${table}`);
  // Logical decoding leaves serialized snapshots (pg_logical/snapshots/*.snap) until the next
  // checkpoint; inside the repository's .stack/ Jest would take them for obsolete snapshot files.
  await pool.query('CHECKPOINT');
  await pool.end();
  fs.rmSync(dir, { recursive: true, force: true });
}, 90_000);

describe('Kafka Connect REST client against the local stack', () => {
  it('knows the worker, the Debezium plugins, and accepts every key of the shipped outbox connector', async () => {
    expect((await client.serverInfo()).version).toBe('4.1.1');
    const plugins = await client.connectorPlugins({ connectorsOnly: false });
    expect(plugins.map((p) => p.class)).toEqual(
      expect.arrayContaining(['io.debezium.connector.postgresql.PostgresConnector', 'io.debezium.transforms.outbox.EventRouter', 'io.debezium.converters.BinaryDataConverter']),
    );
    const shipped = loadConnectorFile(path.resolve(__dirname, '../../../connect-configs/outbox-connector.json'), {
      EVKIT_OUTBOX_DB_HOST: env.IT_DB_HOST,
      EVKIT_OUTBOX_DB_PORT: env.IT_DB_PORT,
      EVKIT_OUTBOX_DB_USER: env.IT_DB_USER,
      EVKIT_OUTBOX_DB_PASSWORD: env.IT_DB_PASSWORD,
      EVKIT_OUTBOX_DB_NAME: env.IT_DB_NAME,
    });
    const validation = await client.validateConfig(shipped.config['connector.class']!, { ...shipped.config, name: shipped.name });
    expect(validation.configs.filter((c) => c.value.errors.length > 0).map((c) => [c.value.name, c.value.errors])).toEqual([]);
    expect(validation.error_count).toBe(0);
    // Connect ignores keys it does not know: a typo would pass validation. Every key is known,
    // but the converter's own settings, which Connect hands to the converter unchecked.
    const known = new Set(validation.configs.map((c) => c.value.name));
    expect(Object.keys(shipped.config).filter((key) => !known.has(key))).toEqual(['value.converter.delegate.converter.type.schemas.enable']);
  });

  it('applies idempotently, pauses, resumes, restarts, reports status and deletes', async () => {
    const file = connectorFile(names.ok, {});
    const created = await applyConnectorConfig({ client, file, env, timeoutMs: 90_000 });
    expect(created).toMatchObject({ name: names.ok, action: 'created', status: { connector: { state: 'RUNNING' }, tasks: [{ id: 0, state: 'RUNNING' }] } });
    expect((await applyConnectorConfig({ client, file, env })).action).toBe('unchanged');
    expect((await client.getConnectorConfig(names.ok))['database.password']).toBe(env.IT_DB_PASSWORD);

    await client.pauseConnector(names.ok);
    await expect(waitUntilRunning({ client, name: names.ok, timeoutMs: 10_000 })).rejects.toBeInstanceOf(ConnectorNotRunningError);
    await client.resumeConnector(names.ok);
    await waitUntilRunning({ client, name: names.ok, timeoutMs: 30_000 });
    expect((await restartAndWait({ client, name: names.ok, timeoutMs: 60_000 })).tasks[0]!.state).toBe('RUNNING');

    const out: string[] = [];
    expect(await runConnectCli(['status', names.ok, '--url', endpoints.connectUrl], { env: {}, out: (l) => out.push(l), err: (l) => out.push(l) })).toBe(0);
    expect(out).toEqual([`${names.ok} (source): connector RUNNING on 127.0.0.1:${new URL(endpoints.connectUrl).port}`, expect.stringMatching(/^ {2}task 0: RUNNING on /)]);

    await client.deleteConnector(names.ok);
    await expect(client.getConnector(names.ok)).rejects.toBeInstanceOf(ConnectorNotFoundError);
  }, 180_000);

  it('reports a task that fails at start with its trace, the secret-named variable masked, and the CLI exits 1', async () => {
    // No publication, and the connector may not create one: the task fails when it starts.
    const secret = `evkit_it_pub_secret_${run}`;
    const file = connectorFile(names.failing, {
      'slot.name': slots[1]!,
      'publication.name': '${IT_PUBLICATION_SECRET}',
      'publication.autocreate.mode': 'disabled',
    });
    const failingEnv = { ...env, IT_PUBLICATION_SECRET: secret };
    const error = await applyConnectorConfig({ client, file, env: failingEnv, timeoutMs: 90_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectorFailedError);
    const failed = error as ConnectorFailedError;
    expect(failed.failures.length).toBeGreaterThan(0);
    expect(failed.failures[0]!.trace).toMatch(/\n\s+at /); // the whole Java trace
    expect(JSON.stringify({ message: failed.message, failures: failed.failures, status: failed.status })).not.toContain(secret);
    expect(failed.message).toContain('***');

    const lines: string[] = [];
    const code = await runConnectCli(['apply', file, '--url', endpoints.connectUrl, '--timeout-ms', '60000'], { env: failingEnv, out: (l) => lines.push(l), err: (l) => lines.push(l) });
    expect(code).toBe(1);
    expect(lines.join('\n')).toMatch(/FAILED: /);
    expect(lines.join('\n')).not.toContain(secret);
  }, 180_000);
});
