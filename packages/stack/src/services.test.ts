import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveStackConfig } from './config';
import { kafkaNodesOf } from './config';
import {
  connectWorkerProperties,
  createServices,
  kafkaServerProperties,
  newKafkaClusterId,
  postgresDataDir,
  renderProperties,
  stackLayout,
} from './services';

describe('Kafka configuration', () => {
  const config = resolveStackConfig({ ports: { kafka: 29092, kafkaController: 29093 } }, {});

  it('is a single combined KRaft node on loopback with single-replica internal topics', () => {
    const props = kafkaServerProperties(config, '/data/kafka');
    expect(props).toMatchObject({
      'process.roles': 'broker,controller',
      'controller.quorum.voters': '1@127.0.0.1:29093',
      listeners: 'PLAINTEXT://127.0.0.1:29092,CONTROLLER://127.0.0.1:29093',
      'advertised.listeners': 'PLAINTEXT://127.0.0.1:29092',
      'offsets.topic.replication.factor': 1,
      'transaction.state.log.replication.factor': 1,
      'transaction.state.log.min.isr': 1,
      'share.coordinator.state.topic.replication.factor': 1,
      'group.initial.rebalance.delay.ms': 0,
      'log.dirs': '/data/kafka',
    });
  });

  it('points Connect at the broker with override policy All and the plugin folder', () => {
    const props = connectWorkerProperties(config, '/stack/plugins');
    expect(props['bootstrap.servers']).toBe('127.0.0.1:29092');
    expect(props['plugin.path']).toBe('/stack/plugins');
    expect(props['connector.client.config.override.policy']).toBe('All');
    expect(props['config.storage.replication.factor']).toBe(1);
  });

  it('renders properties sorted, one per line', () => {
    expect(renderProperties({ 'b.key': 2, 'a.key': 'x', flag: true })).toBe('a.key=x\nb.key=2\nflag=true\n');
  });

  it('makes cluster ids the way Kafka prints a Uuid: 22 URL-safe base64 characters, unique', () => {
    const ids = new Set(Array.from({ length: 50 }, newKafkaClusterId));
    expect(ids.size).toBe(50);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});

describe('a three-node Kafka quorum', () => {
  const config = resolveStackConfig({ dir: '/s/.stack', brokers: 3, ports: { kafka: 29092, kafkaController: 29093 } }, {});

  it('makes every node a broker and a voter of one quorum, on loopback', () => {
    const props = kafkaServerProperties(config, '/data/kafka-2', kafkaNodesOf(config)[1]);
    expect(props).toMatchObject({
      'process.roles': 'broker,controller',
      'node.id': 2,
      'controller.quorum.voters': '1@127.0.0.1:29093,2@127.0.0.1:29095,3@127.0.0.1:29097',
      listeners: 'PLAINTEXT://127.0.0.1:29094,CONTROLLER://127.0.0.1:29095',
      'advertised.listeners': 'PLAINTEXT://127.0.0.1:29094',
      'log.dirs': '/data/kafka-2',
    });
  });

  it('replicates three times and acknowledges with two in sync, internal topics included', () => {
    const props = kafkaServerProperties(config, '/data/kafka-1', kafkaNodesOf(config)[0]);
    expect(props).toMatchObject({
      'default.replication.factor': 3,
      'min.insync.replicas': 2,
      'unclean.leader.election.enable': false,
      'offsets.topic.replication.factor': 3,
      'transaction.state.log.replication.factor': 3,
      'transaction.state.log.min.isr': 2,
      'share.coordinator.state.topic.replication.factor': 3,
      'share.coordinator.state.topic.min.isr': 2,
    });
    // A single node keeps its single-replica settings and no cluster-wide defaults.
    const single = kafkaServerProperties(resolveStackConfig({}, {}), '/data/kafka');
    expect(single).not.toHaveProperty('min.insync.replicas');
    expect(single).not.toHaveProperty('default.replication.factor');
  });

  it('points Connect at every node, with replicated storage topics', () => {
    const props = connectWorkerProperties(config, '/stack/plugins');
    expect(props['bootstrap.servers']).toBe('127.0.0.1:29092,127.0.0.1:29094,127.0.0.1:29096');
    expect(props['offset.storage.replication.factor']).toBe(3);
  });

  it('gives each node its own log, pid file, data and command-line marker', () => {
    const kafka = createServices({ ...config, services: ['kafka'] });
    expect(kafka.map((s) => [s.name, s.node, path.basename(s.pidFile), path.basename(s.logFile), s.ports])).toEqual([
      ['kafka', 1, 'kafka-1.pid', 'kafka-1.log', [29092, 29093]],
      ['kafka', 2, 'kafka-2.pid', 'kafka-2.log', [29094, 29095]],
      ['kafka', 3, 'kafka-3.pid', 'kafka-3.log', [29096, 29097]],
    ]);
    expect(new Set(kafka.map((s) => s.marker)).size).toBe(3);
    // One node keeps the names it always had.
    const [single] = createServices(resolveStackConfig({ dir: '/s/.stack', services: ['kafka'] }, {}));
    expect([single!.node, path.basename(single!.pidFile), single!.marker]).toEqual([undefined, 'kafka.pid', '/s/.stack/kafka']);
  });
});

describe('stackLayout', () => {
  it('keeps data, logs and pids in the stack folder and the jars where the artifacts folder says', () => {
    expect(stackLayout('/faults', '/shared')).toEqual({
      confDir: '/faults/conf',
      dataDir: '/faults/data',
      logDir: '/faults/logs',
      runDir: '/faults/run',
      kafkaLibDir: '/shared/lib/kafka',
      pluginDir: '/shared/plugins',
      apicurioDir: '/shared/apicurio',
    });
    expect(stackLayout('/s').kafkaLibDir).toBe('/s/lib/kafka');
  });
});

describe('postgresDataDir', () => {
  let privateDir: string;
  let openDir: string;
  beforeAll(() => {
    privateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'evkit-private-')); // 0700, like /root
    openDir = fs.mkdtempSync(path.join(os.tmpdir(), 'evkit-open-'));
    fs.chmodSync(openDir, 0o755);
  });
  afterAll(() => {
    fs.rmSync(privateDir, { recursive: true, force: true });
    fs.rmSync(openDir, { recursive: true, force: true });
  });

  it('keeps the data in the stack folder when the postgres user can reach it, or when not root', () => {
    expect(postgresDataDir(stackLayout(`${openDir}/.stack`), true)).toBe(`${openDir}/.stack/data/postgres`);
    expect(postgresDataDir(stackLayout(`${privateDir}/.stack`), false)).toBe(`${privateDir}/.stack/data/postgres`);
  });

  it('moves it out of a private folder when running as root, one folder per stack', () => {
    const moved = postgresDataDir(stackLayout(`${privateDir}/a/.stack`), true);
    expect(moved).toMatch(/^\/var\/tmp\/evkit-stack-[0-9a-f]{12}\/postgres$/);
    expect(postgresDataDir(stackLayout(`${privateDir}/b/.stack`), true)).not.toBe(moved);
  });
});
