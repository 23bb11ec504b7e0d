import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runConnectCli, EXIT_ERROR, EXIT_FAILED, EXIT_OK } from './cli';
import { startFakeConnect, statusOf, VALID, type FakeConnect } from './fake-connect.test-support';

describe('evkit-connect', () => {
  let connect: FakeConnect;
  let out: string[];
  let err: string[];
  const run = (argv: string[], env: Record<string, string> = {}) =>
    runConnectCli(argv, { env: { EVKIT_CONNECT_URL: connect.url, ...env }, out: (l) => out.push(l), err: (l) => err.push(l) });

  beforeEach(async () => {
    connect = await startFakeConnect();
    out = [];
    err = [];
  });
  afterEach(() => connect.close());

  it('exits 2 with the usage for no command, the typed reason for an unknown one or a bad option', async () => {
    expect(await run([])).toBe(EXIT_ERROR);
    expect(err.join('\n')).toMatch(/^Usage: evkit-connect \[options\] \[command\]/);
    err = [];
    expect(await run(['explode'])).toBe(EXIT_ERROR);
    expect(err).toEqual(["EVKIT_CONNECT_INVALID_OPTIONS: unknown command 'explode'"]);
    expect(await run(['status', '--bogus'])).toBe(EXIT_ERROR);
    expect(err.at(-1)).toBe("EVKIT_CONNECT_INVALID_OPTIONS: unknown option '--bogus'");
    expect(await run(['status', '--url'])).toBe(EXIT_ERROR);
    expect(err.at(-1)).toBe("EVKIT_CONNECT_INVALID_OPTIONS: option '--url <url>' argument missing");
    expect(await run(['apply', 'c.json', '--timeout-ms', '-5'])).toBe(EXIT_ERROR);
    expect(err.at(-1)).toBe('EVKIT_CONNECT_INVALID_OPTIONS: option \'--timeout-ms <ms>\' argument \'-5\' is invalid. must be an integer >= 0, got "-5"');
    expect(await run(['restart'])).toBe(EXIT_ERROR);
    expect(err.at(-1)).toBe("EVKIT_CONNECT_INVALID_OPTIONS: missing required argument 'name'");
    expect(connect.requests).toEqual([]);
    out = [];
    expect(await run(['--help'])).toBe(EXIT_OK);
    expect(out.join('\n')).toMatch(/apply \[options\] <file>|apply <file>/);
  });

  it('status: exit 0 when all run, 1 with the trace when a task FAILED', async () => {
    connect.answer('GET', '/connectors', 200, ['a', 'b']);
    connect.answer('GET', '/connectors/a/status', 200, statusOf('a', 'RUNNING', [{ id: 0, state: 'RUNNING', worker_id: 'w1' }]));
    connect.answer('GET', '/connectors/b/status', 200, statusOf('b', 'RUNNING', [{ id: 0, state: 'RUNNING', worker_id: 'w1' }]));
    expect(await run(['status'])).toBe(EXIT_OK);
    expect(out).toEqual([
      'a (source): connector RUNNING on 127.0.0.1:8083',
      '  task 0: RUNNING on w1',
      'b (source): connector RUNNING on 127.0.0.1:8083',
      '  task 0: RUNNING on w1',
    ]);
    const trace = 'java.lang.IllegalStateException: Unexpected update message received\n\tat io.debezium.X';
    connect.answer('GET', '/connectors/b/status', 200, statusOf('b', 'RUNNING', [{ id: 0, state: 'FAILED', worker_id: 'w1', trace }]));
    expect(await run(['status', 'b'])).toBe(EXIT_FAILED);
    expect(err).toEqual([
      'b task 0 FAILED: java.lang.IllegalStateException: Unexpected update message received',
      '    java.lang.IllegalStateException: Unexpected update message received',
      '    \tat io.debezium.X',
    ]);
  });

  it('status of an unknown connector exits 2', async () => {
    expect(await run(['status', 'ghost'])).toBe(EXIT_ERROR);
    expect(err).toEqual([`EVKIT_CONNECT_CONNECTOR_NOT_FOUND: no connector "ghost" on ${connect.url}`]);
  });

  it('apply: exit 0 once running, 2 naming a missing variable', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evkit-cli-'));
    const file = path.join(dir, 'c.json');
    fs.writeFileSync(file, JSON.stringify({ name: 'c', config: { 'connector.class': 'Pg', 'database.hostname': '${DB_HOST}' } }));
    connect.answer('PUT', '/connector-plugins/Pg/config/validate', 200, VALID);
    connect.answer('PUT', '/connectors/c/config', 201, { name: 'c', config: {}, tasks: [], type: 'source' });
    connect.answer('GET', '/connectors/c/status', 200, statusOf('c', 'RUNNING', [{ id: 0, state: 'RUNNING', worker_id: 'w1' }]));
    expect(await run(['apply', file], { DB_HOST: 'db' })).toBe(EXIT_OK);
    expect(out[0]).toBe('c: created');
    expect(await run(['apply', file])).toBe(EXIT_ERROR);
    expect(err.at(-1)).toBe(`EVKIT_CONNECT_VARIABLE_MISSING: ${file}: environment variable DB_HOST not set and without a default (\${NAME:-default})`);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('restart: restarts connector and tasks, exit 1 when a task comes back FAILED', async () => {
    connect.answer('POST', '/connectors/c/restart?includeTasks=true&onlyFailed=true', 202, statusOf('c', 'RESTARTING'));
    connect.answer('GET', '/connectors/c/status', 200, statusOf('c', 'RUNNING', [{ id: 0, state: 'FAILED', worker_id: 'w1', trace: 'boom' }]));
    expect(await run(['restart', 'c', '--only-failed'])).toBe(EXIT_FAILED);
    expect(err).toEqual(['EVKIT_CONNECT_CONNECTOR_FAILED: connector c failed: task 0: boom', 'c task 0 FAILED: boom', '    boom']);
  });
});
