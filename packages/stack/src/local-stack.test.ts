import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createLocalStack } from './local-stack';
import { jvmArtifactsDigest, resolveJvmArtifacts } from './prerequisites';
import { isAlive, startDaemon } from './processes';

// No service is started here: pid files name stand-in processes carrying the services' markers.
describe('a stack folder with several Kafka nodes', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evkit-nodes-'));
    fs.mkdirSync(path.join(dir, 'run'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A process whose command line carries `marker` the way the stack's JVMs do. */
  const standIn = (name: string, marker: string) =>
    startDaemon({
      command: process.execPath,
      args: ['-e', 'setInterval(() => {}, 1000)', '--', `-Devkit.stack=${marker}`],
      logFile: path.join(dir, `${name}.log`),
      pidFile: path.join(dir, 'run', `${name}.pid`),
    });

  it('reports each node, and pidOf finds a node by its id', async () => {
    const stack = createLocalStack({ dir, brokers: 3, services: ['kafka'], ports: { kafka: 29192, kafkaController: 29193 } });
    const pid = standIn('kafka-2', path.join(dir, 'kafka-2'));
    try {
      expect(stack.pidOf('kafka', 2)).toBe(pid);
      expect(stack.pidOf('kafka', 1)).toBeUndefined();
      expect(stack.pidOf('kafka')).toBeUndefined(); // node 1
      const statuses = await stack.status();
      expect(statuses.map((s) => [s.name, s.node, s.pid])).toEqual([
        ['kafka', 1, undefined],
        ['kafka', 2, pid],
        ['kafka', 3, undefined],
      ]);
      expect(stack.endpoints.kafkaBrokers).toEqual(['127.0.0.1:29192', '127.0.0.1:29194', '127.0.0.1:29196']);
    } finally {
      process.kill(pid, 'SIGKILL');
    }
  });

  it('does not take the single node for node 2, nor node 2 for the single node (pid reuse guard)', () => {
    const pid = standIn('kafka', path.join(dir, 'kafka-2'));
    try {
      const single = createLocalStack({ dir, services: ['kafka'] });
      expect(single.pidOf('kafka')).toBeUndefined();
    } finally {
      process.kill(pid, 'SIGKILL');
    }
  });

  it('down stops the nodes of another broker count started from the same folder', async () => {
    const pids = [standIn('kafka-1', path.join(dir, 'kafka-1')), standIn('kafka-3', path.join(dir, 'kafka-3'))];
    // The folder is now asked to stop as a single-node stack: its quorum nodes must not survive.
    await createLocalStack({ dir, services: ['kafka'] }).down();
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
    expect(fs.readdirSync(path.join(dir, 'run'))).toEqual([]);
  }, 60_000);
});

describe('a shared artifacts folder', () => {
  it('is left alone by a stack whose poms it was resolved from: no Maven run, nothing removed', () => {
    const shared = fs.mkdtempSync(path.join(os.tmpdir(), 'evkit-artifacts-'));
    try {
      fs.mkdirSync(path.join(shared, 'lib', 'kafka'), { recursive: true });
      fs.writeFileSync(path.join(shared, 'lib', 'kafka', 'kafka.jar'), 'jar');
      fs.writeFileSync(path.join(shared, 'jvm-artifacts.sha256'), `${jvmArtifactsDigest()}\n`);
      const lines: string[] = [];
      resolveJvmArtifacts(shared, (line) => lines.push(line));
      expect(lines).toEqual([]);
      expect(fs.existsSync(path.join(shared, 'lib', 'kafka', 'kafka.jar'))).toBe(true);
    } finally {
      fs.rmSync(shared, { recursive: true, force: true });
    }
  });
});
