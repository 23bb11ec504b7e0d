import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { StackCommandError, StackServiceUnhealthyError } from './errors';
import { isAlive, portInUse, readPid, run, startDaemon, stopProcess, waitUntilHealthy } from './processes';

describe('local processes', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evkit-proc-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('starts a detached daemon, records its own pid, and stops it', async () => {
    const spec = { command: 'sleep', args: ['300'], logFile: path.join(dir, 'x.log'), pidFile: path.join(dir, 'x.pid') };
    const pid = startDaemon(spec);
    expect(readPid(spec.pidFile)).toBe(pid);
    expect(isAlive(pid, 'sleep')).toBe(true);
    expect(isAlive(pid, 'not-in-its-command-line')).toBe(false);
    await stopProcess(pid);
    expect(isAlive(pid)).toBe(false);
  });

  it('matches a marker as a whole argument or the value of one, not as a prefix', async () => {
    const pid = startDaemon({
      command: process.execPath,
      args: ['-e', 'setInterval(() => {}, 1000)', '--', '-Devkit.stack=/s/.stack/kafka-2', '/s/data/postgres'],
      logFile: path.join(dir, 'm.log'),
      pidFile: path.join(dir, 'm.pid'),
    });
    try {
      expect(isAlive(pid, '/s/.stack/kafka-2')).toBe(true);
      expect(isAlive(pid, '/s/data/postgres')).toBe(true);
      expect(isAlive(pid, '/s/.stack/kafka')).toBe(false);
      expect(isAlive(pid, '/s/.stack/kafka-')).toBe(false);
    } finally {
      await stopProcess(pid);
    }
  });

  it('stops a paused process too (SIGSTOP by a fault test)', async () => {
    const pid = startDaemon({ command: 'sleep', args: ['300'], logFile: path.join(dir, 'p.log'), pidFile: path.join(dir, 'p.pid') });
    process.kill(pid, 'SIGSTOP');
    await stopProcess(pid, 'SIGTERM', 5000);
    expect(isAlive(pid)).toBe(false);
  });

  it('escalates to SIGKILL when the stop signal is ignored', async () => {
    const pid = startDaemon({
      command: 'sh',
      args: ['-c', 'trap "" TERM; while true; do sleep 0.1; done'],
      logFile: path.join(dir, 'k.log'),
      pidFile: path.join(dir, 'k.pid'),
    });
    await new Promise((r) => setTimeout(r, 200)); // let the trap be installed
    await stopProcess(pid, 'SIGTERM', 500);
    expect(isAlive(pid)).toBe(false);
  });

  it('reads a missing or garbled pid file as no pid', () => {
    expect(readPid(path.join(dir, 'missing.pid'))).toBeUndefined();
    fs.writeFileSync(path.join(dir, 'bad.pid'), 'not a pid\n');
    expect(readPid(path.join(dir, 'bad.pid'))).toBeUndefined();
  });

  it('turns a failing command into a StackCommandError with its output', () => {
    expect(() => run('sh', ['-c', 'echo boom >&2; exit 3'])).toThrow(StackCommandError);
    expect(() => run('sh', ['-c', 'echo boom >&2; exit 3'])).toThrow(/exited with 3:\nboom/);
    expect(() => run('/nonexistent/binary', [])).toThrow(/could not run/);
  });

  it('fails fast with the log tail when a service dies during start-up', async () => {
    const logFile = path.join(dir, 'dead.log');
    fs.writeFileSync(logFile, 'starting\nFATAL: port already in use\n');
    const started = Date.now();
    const wait = waitUntilHealthy({ service: 'kafka', timeoutMs: 60_000, logFile, probe: () => Promise.resolve(false), stillRunning: () => false });
    await expect(wait).rejects.toThrow(StackServiceUnhealthyError);
    await expect(wait).rejects.toThrow(/kafka exited during start-up[\s\S]*port already in use/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('times out with the last probe error when a service never becomes healthy', async () => {
    const wait = waitUntilHealthy({
      service: 'registry',
      timeoutMs: 300,
      logFile: path.join(dir, 'none.log'),
      probe: () => Promise.reject(new Error('ECONNREFUSED')),
      stillRunning: () => true,
    });
    await expect(wait).rejects.toThrow(/registry not healthy after 300 ms \(last probe: ECONNREFUSED\)/);
  });

  it('returns as soon as the probe passes', async () => {
    let calls = 0;
    await waitUntilHealthy({
      service: 'postgres',
      timeoutMs: 10_000,
      logFile: path.join(dir, 'ok.log'),
      probe: () => Promise.resolve(++calls >= 2),
      stillRunning: () => true,
    });
    expect(calls).toBe(2);
  });
});

describe('portInUse', () => {
  it('tells a listening port from a free one', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    expect(await portInUse(port)).toBe(true);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(await portInUse(port)).toBe(false);
  });
});
