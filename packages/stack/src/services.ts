// Over 300 lines for a reason: each service of the local stack (Kafka, Connect + Debezium,
// Apicurio, PostgreSQL) is one definition here (config, start command, health check) side by side.
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import {
  kafkaNodesOf,
  POSTGRES_DATABASE,
  POSTGRES_PASSWORD,
  POSTGRES_USER,
  type KafkaNode,
  type ServiceName,
  type StackConfig,
} from './config';
import { StackCommandError } from './errors';
import { postgresBinDir } from './prerequisites';
import { run, startDaemon } from './processes';

/** One local process of the stack: how to prepare, start, probe and stop it. */
export interface Service {
  readonly name: ServiceName;
  /** Kafka's KRaft node id when the stack runs several Kafka nodes; undefined otherwise. */
  readonly node?: number;
  readonly logFile: string;
  readonly pidFile: string;
  /** TCP ports the service listens on; must be free before it starts. */
  readonly ports: readonly number[];
  /** Appears in the process's command line; guards against a recycled pid. */
  readonly marker: string;
  /** Signal for a clean, fast shutdown. */
  readonly stopSignal: NodeJS.Signals;
  /** Writes configuration and initialises data folders; idempotent. */
  prepare(): void;
  start(): number;
  healthy(): Promise<boolean>;
  /** Runs once the service is healthy, on every `up`; idempotent. */
  afterHealthy(): Promise<void>;
}

export interface StackLayout {
  confDir: string;
  dataDir: string;
  logDir: string;
  runDir: string;
  kafkaLibDir: string;
  pluginDir: string;
  apicurioDir: string;
}

/** Where a stack folder keeps things; the jars may live in another folder (`artifactsDir`), shared. */
export function stackLayout(dir: string, artifactsDir: string = dir): StackLayout {
  return {
    confDir: path.join(dir, 'conf'),
    dataDir: path.join(dir, 'data'),
    logDir: path.join(dir, 'logs'),
    runDir: path.join(dir, 'run'),
    kafkaLibDir: path.join(artifactsDir, 'lib', 'kafka'),
    pluginDir: path.join(artifactsDir, 'plugins'),
    apicurioDir: path.join(artifactsDir, 'apicurio'),
  };
}

export const LOG4J2_PROPERTIES = `# Everything to stdout, which the stack appends to the service's log file.
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.reflections.name = org.reflections
logger.reflections.level = ERROR
`;

/** Renders a Java .properties file; keys are sorted so the file is stable across runs. */
export function renderProperties(values: Record<string, string | number | boolean>): string {
  return Object.keys(values)
    .sort()
    .map((key) => `${key}=${String(values[key])}`)
    .join('\n')
    .concat('\n');
}

/** A KRaft cluster id: 16 random bytes, URL-safe base64 without padding, as Kafka's Uuid prints it. */
export function newKafkaClusterId(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * One Kafka node's server properties. A single node holds every internal topic with one replica;
 * a quorum (3 or 5 nodes) replicates everything three times and acknowledges a write only once
 * two replicas have it (`min.insync.replicas=2`, producers use acks=all), so losing any one node
 * loses no acknowledged record.
 */
export function kafkaServerProperties(
  config: StackConfig,
  logDir: string,
  node: KafkaNode = kafkaNodesOf(config)[0]!,
): Record<string, string | number | boolean> {
  const nodes = kafkaNodesOf(config);
  const replicated = nodes.length > 1;
  const replicas = Math.min(3, nodes.length);
  const minIsr = replicated ? 2 : 1;
  return {
    'process.roles': 'broker,controller',
    'node.id': node.nodeId,
    'controller.quorum.voters': nodes.map((n) => `${n.nodeId}@127.0.0.1:${n.controllerPort}`).join(','),
    listeners: `PLAINTEXT://127.0.0.1:${node.port},CONTROLLER://127.0.0.1:${node.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${node.port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': logDir,
    'num.partitions': 3,
    'auto.create.topics.enable': true,
    // One node: every internal topic must live with a single replica. A quorum: three replicas,
    // two in sync to acknowledge.
    'offsets.topic.replication.factor': replicas,
    'transaction.state.log.replication.factor': replicas,
    'transaction.state.log.min.isr': minIsr,
    'share.coordinator.state.topic.replication.factor': replicas,
    'share.coordinator.state.topic.min.isr': minIsr,
    ...(replicated
      ? {
          'default.replication.factor': replicas,
          'min.insync.replicas': minIsr,
          // Never elect a replica that may lack acknowledged records (Kafka's default, stated).
          'unclean.leader.election.enable': false,
        }
      : {}),
    // The default 3 s delay would be paid by every test's first group join.
    'group.initial.rebalance.delay.ms': 0,
  };
}

export function connectWorkerProperties(config: StackConfig, pluginDir: string): Record<string, string | number | boolean> {
  const replicas = Math.min(3, config.brokers);
  return {
    'bootstrap.servers': kafkaNodesOf(config)
      .map((node) => `127.0.0.1:${node.port}`)
      .join(','),
    'group.id': 'evkit-connect',
    'config.storage.topic': 'evkit-connect-configs',
    'offset.storage.topic': 'evkit-connect-offsets',
    'status.storage.topic': 'evkit-connect-status',
    'config.storage.replication.factor': replicas,
    'offset.storage.replication.factor': replicas,
    'status.storage.replication.factor': replicas,
    'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
    // Short flush interval: a killed worker replays less (delivery stays at-least-once either way).
    'offset.flush.interval.ms': 1000,
    listeners: `http://127.0.0.1:${config.ports.connect}`,
    'rest.advertised.host.name': '127.0.0.1',
    'rest.advertised.port': config.ports.connect,
    'plugin.path': pluginDir,
    // Lets a connector config turn on producer idempotence (producer.override.*).
    'connector.client.config.override.policy': 'All',
  };
}

function javaBinary(): string {
  return process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

function jvmArgs(layout: StackLayout, marker: string, heap: string): string[] {
  return [
    `-Xmx${heap}`,
    '-Xms128m',
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${path.join(layout.confDir, 'log4j2.properties')}`,
    `-Devkit.stack=${marker}`,
  ];
}

async function httpOk(url: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
  await response.arrayBuffer();
  return response.ok;
}

function writeIfChanged(file: string, content: string): void {
  if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === content) return;
  fs.writeFileSync(file, content);
}

/**
 * A single node keeps the historical names (`kafka.log`, `run/kafka.pid`, `data/kafka`); the nodes
 * of a quorum are `kafka-<id>`. All nodes of a quorum are formatted with one cluster id, kept in
 * `data/kafka-cluster.id` so a node whose folder was wiped rejoins the same cluster.
 */
export function kafkaNodeNames(config: StackConfig, node: KafkaNode): { base: string; marker: string } {
  const base = config.brokers === 1 ? 'kafka' : `kafka-${node.nodeId}`;
  return { base, marker: path.join(config.dir, base) };
}

function clusterIdFor(config: StackConfig, layout: StackLayout): string {
  if (config.brokers === 1) return newKafkaClusterId();
  const file = path.join(layout.dataDir, 'kafka-cluster.id');
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  // A node already formatted names the cluster in its meta.properties.
  for (const node of kafkaNodesOf(config)) {
    const meta = path.join(layout.dataDir, kafkaNodeNames(config, node).base, 'meta.properties');
    if (!fs.existsSync(meta)) continue;
    const id = /^cluster\.id=(.+)$/m.exec(fs.readFileSync(meta, 'utf8'))?.[1]?.trim();
    if (id) {
      fs.writeFileSync(file, `${id}\n`);
      return id;
    }
  }
  const id = newKafkaClusterId();
  fs.mkdirSync(layout.dataDir, { recursive: true });
  fs.writeFileSync(file, `${id}\n`);
  return id;
}

function kafkaService(config: StackConfig, layout: StackLayout, node: KafkaNode): Service {
  const { base, marker } = kafkaNodeNames(config, node);
  const dataDir = path.join(layout.dataDir, base);
  const propsFile = path.join(layout.confDir, config.brokers === 1 ? 'kafka-server.properties' : `${base}-server.properties`);
  const classpath = path.join(layout.kafkaLibDir, '*');
  return {
    name: 'kafka',
    ...(config.brokers === 1 ? {} : { node: node.nodeId }),
    logFile: path.join(layout.logDir, `${base}.log`),
    pidFile: path.join(layout.runDir, `${base}.pid`),
    ports: [node.port, node.controllerPort],
    marker,
    stopSignal: 'SIGTERM',
    prepare() {
      writeIfChanged(propsFile, renderProperties(kafkaServerProperties(config, dataDir, node)));
      if (fs.existsSync(path.join(dataDir, 'meta.properties'))) return;
      fs.mkdirSync(dataDir, { recursive: true });
      run(javaBinary(), [
        ...jvmArgs(layout, `${marker}-format`, '256m'),
        '-cp',
        classpath,
        'kafka.tools.StorageTool',
        'format',
        '-t',
        clusterIdFor(config, layout),
        '-c',
        propsFile,
        '--ignore-formatted',
      ]);
    },
    start() {
      return startDaemon({
        command: javaBinary(),
        args: [...jvmArgs(layout, marker, '1g'), '-cp', classpath, 'kafka.Kafka', propsFile],
        logFile: this.logFile,
        pidFile: this.pidFile,
      });
    },
    async healthy() {
      // Asked of this node alone: it answers, a controller is elected, and this node is
      // registered and unfenced (KRaft lists only unfenced brokers in metadata).
      const admin = new Kafka({
        clientId: 'evkit-stack-health',
        brokers: [`127.0.0.1:${node.port}`],
        logLevel: logLevel.NOTHING,
        connectionTimeout: 2000,
        retry: { retries: 0 },
      }).admin();
      try {
        await admin.connect();
        const cluster = await admin.describeCluster();
        return cluster.controller !== null && cluster.brokers.some((b) => b.nodeId === node.nodeId);
      } finally {
        await admin.disconnect();
      }
    },
    async afterHealthy() {},
  };
}

function registryService(config: StackConfig, layout: StackLayout): Service {
  const marker = path.join(config.dir, 'registry');
  const base = `http://127.0.0.1:${config.ports.registry}`;
  return {
    name: 'registry',
    logFile: path.join(layout.logDir, 'registry.log'),
    pidFile: path.join(layout.runDir, 'registry.pid'),
    ports: [config.ports.registry],
    marker,
    stopSignal: 'SIGTERM',
    prepare() {},
    start() {
      const runner = fs.readdirSync(layout.apicurioDir).find((f) => f.endsWith('-runner.jar'));
      if (!runner) throw new StackCommandError(`no Apicurio runner jar in ${layout.apicurioDir}`);
      return startDaemon({
        command: javaBinary(),
        args: [
          ...jvmArgs(layout, marker, '512m'),
          `-Dquarkus.http.port=${config.ports.registry}`,
          '-Dquarkus.http.host=127.0.0.1',
          '-Dquarkus.log.level=INFO',
          // Enforced for every subject without a rule of its own (in-memory storage, default).
          '-Dapicurio.rules.global.compatibility=BACKWARD_TRANSITIVE',
          '-jar',
          runner,
        ],
        cwd: layout.apicurioDir,
        logFile: this.logFile,
        pidFile: this.pidFile,
      });
    },
    healthy: () => httpOk(`${base}/health/ready`),
    async afterHealthy() {
      // Apicurio enforces the global rule but reports NONE on the Confluent API's GET /config
      // until the global config is also set through that API; set it so both agree.
      const response = await fetch(`${base}/apis/ccompat/v7/config`, {
        method: 'PUT',
        headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
        body: JSON.stringify({ compatibility: 'BACKWARD_TRANSITIVE' }),
      });
      const body = await response.text();
      if (!response.ok) throw new StackCommandError(`setting the registry's global compatibility failed: ${body}`);
    },
  };
}

function connectService(config: StackConfig, layout: StackLayout): Service {
  const marker = path.join(config.dir, 'connect');
  const propsFile = path.join(layout.confDir, 'connect-worker.properties');
  const base = `http://127.0.0.1:${config.ports.connect}`;
  return {
    name: 'connect',
    logFile: path.join(layout.logDir, 'connect.log'),
    pidFile: path.join(layout.runDir, 'connect.pid'),
    ports: [config.ports.connect],
    marker,
    stopSignal: 'SIGTERM',
    prepare() {
      writeIfChanged(propsFile, renderProperties(connectWorkerProperties(config, layout.pluginDir)));
    },
    start() {
      return startDaemon({
        command: javaBinary(),
        args: [
          ...jvmArgs(layout, marker, '1g'),
          '-cp',
          path.join(layout.kafkaLibDir, '*'),
          'org.apache.kafka.connect.cli.ConnectDistributed',
          propsFile,
        ],
        logFile: this.logFile,
        pidFile: this.pidFile,
      });
    },
    async healthy() {
      const response = await fetch(`${base}/connector-plugins`, { signal: AbortSignal.timeout(2000) });
      if (!response.ok) return false;
      const plugins = (await response.json()) as { class: string }[];
      return plugins.some((p) => p.class === 'io.debezium.connector.postgresql.PostgresConnector');
    },
    async afterHealthy() {},
  };
}

/** Uid and gid of the `postgres` user: initdb and postgres refuse to run as root. */
function postgresOwner(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  return {
    uid: Number(run('id', ['-u', 'postgres']).trim()),
    gid: Number(run('id', ['-g', 'postgres']).trim()),
  };
}

/** True when a user other than the owner can reach `dir` (every ancestor has o+x). */
function reachableByOthers(dir: string): boolean {
  for (let current = dir; ; current = path.dirname(current)) {
    if (fs.existsSync(current) && (fs.statSync(current).mode & 0o001) === 0) return false;
    if (current === path.dirname(current)) return true;
  }
}

/**
 * As root the server runs as `postgres`, which cannot enter a clone under a private home
 * folder (/root is 0700); the data then lives in a folder of its own, keyed by the stack folder.
 */
export function postgresDataDir(layout: StackLayout, runsAsRoot: boolean): string {
  const preferred = path.join(layout.dataDir, 'postgres');
  if (!runsAsRoot || reachableByOthers(layout.dataDir)) return preferred;
  const key = createHash('sha256').update(layout.dataDir).digest('hex').slice(0, 12);
  return path.join('/var/tmp', `evkit-stack-${key}`, 'postgres');
}

function postgresService(config: StackConfig, layout: StackLayout): Service {
  const dataDir = postgresDataDir(layout, process.getuid?.() === 0);
  const clientConfig = {
    host: '127.0.0.1',
    port: config.ports.postgres,
    user: POSTGRES_USER,
    password: POSTGRES_PASSWORD,
    connectionTimeoutMillis: 2000,
  };
  let binDir: string | undefined;
  const bin = (name: string): string => path.join((binDir ??= postgresBinDir()), name);
  return {
    name: 'postgres',
    logFile: path.join(layout.logDir, 'postgres.log'),
    pidFile: path.join(layout.runDir, 'postgres.pid'),
    ports: [config.ports.postgres],
    marker: dataDir,
    // SIGINT is PostgreSQL's fast shutdown; SIGTERM would wait for every client to leave.
    stopSignal: 'SIGINT',
    prepare() {
      if (fs.existsSync(path.join(dataDir, 'PG_VERSION'))) return;
      const owner = postgresOwner();
      fs.rmSync(dataDir, { recursive: true, force: true });
      fs.mkdirSync(path.dirname(dataDir), { recursive: true, mode: 0o755 });
      fs.mkdirSync(dataDir, { mode: 0o700 });
      const pwFile = path.join(path.dirname(dataDir), 'postgres.pw');
      fs.writeFileSync(pwFile, `${POSTGRES_PASSWORD}\n`, { mode: 0o600 });
      if (owner) {
        fs.chownSync(dataDir, owner.uid, owner.gid);
        fs.chownSync(pwFile, owner.uid, owner.gid);
      }
      try {
        run(
          bin('initdb'),
          ['-D', dataDir, '-U', POSTGRES_USER, `--pwfile=${pwFile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C'],
          owner ?? {},
        );
      } finally {
        fs.rmSync(pwFile, { force: true });
      }
    },
    start() {
      const owner = postgresOwner();
      return startDaemon({
        command: bin('postgres'),
        args: [
          '-D',
          dataDir,
          '-c',
          `port=${config.ports.postgres}`,
          '-c',
          'listen_addresses=127.0.0.1',
          // TCP only: a socket path inside the clone could pass the 107-byte limit.
          '-c',
          'unix_socket_directories=',
          // Logical decoding for Debezium's pgoutput.
          '-c',
          'wal_level=logical',
          '-c',
          'max_replication_slots=20',
          '-c',
          'max_wal_senders=20',
        ],
        logFile: this.logFile,
        pidFile: this.pidFile,
        ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
      });
    },
    async healthy() {
      const client = new Client({ ...clientConfig, database: 'postgres' });
      await client.connect();
      try {
        await client.query('select 1');
        return true;
      } finally {
        await client.end();
      }
    },
    async afterHealthy() {
      const client = new Client({ ...clientConfig, database: 'postgres' });
      await client.connect();
      try {
        const exists = await client.query('select 1 from pg_database where datname = $1', [POSTGRES_DATABASE]);
        if (exists.rowCount === 0) await client.query(`create database ${POSTGRES_DATABASE}`);
      } finally {
        await client.end();
      }
    },
  };
}

export function createServices(config: StackConfig): Service[] {
  const layout = stackLayout(config.dir, config.artifactsDir);
  const factories: Record<ServiceName, (c: StackConfig, l: StackLayout) => Service[]> = {
    postgres: (c, l) => [postgresService(c, l)],
    kafka: (c, l) => kafkaNodesOf(c).map((node) => kafkaService(c, l, node)),
    registry: (c, l) => [registryService(c, l)],
    connect: (c, l) => [connectService(c, l)],
  };
  return config.services.flatMap((name) => factories[name](config, layout));
}
