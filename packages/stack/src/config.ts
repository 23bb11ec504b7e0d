import * as path from 'node:path';
import { redactUrl } from '@evkit/errors';
import { StackConfigError } from './errors';

export type ServiceName = 'postgres' | 'kafka' | 'registry' | 'connect';

/** Start order: Connect needs Kafka (its storage topics), the rest are independent. */
export const ALL_SERVICES: readonly ServiceName[] = ['postgres', 'kafka', 'registry', 'connect'];

export interface StackPorts {
  kafka: number;
  kafkaController: number;
  registry: number;
  connect: number;
  postgres: number;
}

export interface StackConfig {
  /** Git-ignored folder holding data, logs, pid files (and, by default, the jars). */
  dir: string;
  /**
   * Where the resolved JVM artifacts live (`lib/`, `plugins/`, `apicurio/`): `dir` by default.
   * Several stack folders can share one copy (a fault-test stack beside the shared one).
   */
  artifactsDir: string;
  ports: StackPorts;
  /**
   * Kafka nodes, each a combined broker + controller (KRaft): 1 (default), or 3 or 5 forming a
   * controller quorum with replication factor 3 and `min.insync.replicas=2`. Node n (1-based)
   * listens on `ports.kafka + 2(n-1)`, its controller on `ports.kafkaController + 2(n-1)`.
   */
  brokers: number;
  services: readonly ServiceName[];
  /** How long one service may take to become healthy. */
  healthTimeoutMs: number;
}

export interface StackOptions {
  dir?: string;
  /** Folder of the resolved JVM artifacts; default `dir` (env `EVKIT_STACK_ARTIFACTS_DIR`). */
  artifactsDir?: string;
  ports?: Partial<StackPorts>;
  /** Kafka nodes: 1 (default), 3 or 5 (env `EVKIT_STACK_BROKERS`). */
  brokers?: number;
  services?: readonly ServiceName[];
  healthTimeoutMs?: number;
}

/**
 * Defaults sit away from the standard ports (9092, 8081, 8083, 5432) so the stack runs beside
 * services a machine already has.
 */
export const DEFAULT_PORTS: Readonly<StackPorts> = {
  kafka: 19092,
  kafkaController: 19093,
  registry: 18081,
  connect: 18083,
  postgres: 15432,
};

const PORT_ENV: Record<keyof StackPorts, string> = {
  kafka: 'EVKIT_KAFKA_PORT',
  kafkaController: 'EVKIT_KAFKA_CONTROLLER_PORT',
  registry: 'EVKIT_REGISTRY_PORT',
  connect: 'EVKIT_CONNECT_PORT',
  postgres: 'EVKIT_PG_PORT',
};

/** Kafka node counts the stack starts: one node, or an odd quorum. */
export const SUPPORTED_BROKER_COUNTS: readonly number[] = [1, 3, 5];

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

function parsePort(raw: string | number, source: string): number {
  const port = typeof raw === 'number' ? raw : Number(raw.trim());
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new StackConfigError(`${source} must be a TCP port (1-65535), got ${JSON.stringify(raw)}`);
  }
  return port;
}

/** Options win over the environment, the environment over the defaults. */
export function resolveStackConfig(options: StackOptions = {}, env: NodeJS.ProcessEnv = process.env): StackConfig {
  const ports = {} as StackPorts;
  for (const key of Object.keys(DEFAULT_PORTS) as (keyof StackPorts)[]) {
    const fromOptions = options.ports?.[key];
    const fromEnv = env[PORT_ENV[key]];
    ports[key] =
      fromOptions !== undefined
        ? parsePort(fromOptions, `ports.${key}`)
        : fromEnv !== undefined && fromEnv !== ''
          ? parsePort(fromEnv, PORT_ENV[key])
          : DEFAULT_PORTS[key];
  }
  const brokers = options.brokers ?? (env.EVKIT_STACK_BROKERS ? Number(env.EVKIT_STACK_BROKERS.trim()) : 1);
  if (!SUPPORTED_BROKER_COUNTS.includes(brokers)) {
    const source = options.brokers !== undefined ? 'brokers' : 'EVKIT_STACK_BROKERS';
    throw new StackConfigError(
      `${source} must be ${SUPPORTED_BROKER_COUNTS.join(', ')} (a KRaft quorum needs an odd count), got ${JSON.stringify(options.brokers ?? env.EVKIT_STACK_BROKERS)}`,
    );
  }

  // Every port of every node, derived ones included, must be a distinct valid port.
  const taken = new Map<number, string>();
  const claim = (port: number, name: string) => {
    if (port > 65535) throw new StackConfigError(`${name} would be ${port}, above 65535; choose a lower ports.kafka / ports.kafkaController`);
    const other = taken.get(port);
    if (other) throw new StackConfigError(`${name} and ${other} are both ${port}`);
    taken.set(port, name);
  };
  for (const [key, port] of Object.entries(ports) as [string, number][]) claim(port, `ports.${key}`);
  for (let node = 2; node <= brokers; node += 1) {
    claim(ports.kafka + 2 * (node - 1), `the port of Kafka node ${node}`);
    claim(ports.kafkaController + 2 * (node - 1), `the controller port of Kafka node ${node}`);
  }

  const services = options.services ?? ALL_SERVICES;
  for (const service of services) {
    if (!ALL_SERVICES.includes(service)) {
      throw new StackConfigError(`unknown service ${JSON.stringify(service)}; known: ${ALL_SERVICES.join(', ')}`);
    }
  }
  if (services.includes('connect') && !services.includes('kafka')) {
    throw new StackConfigError('the connect service needs the kafka service');
  }

  const healthTimeoutMs = options.healthTimeoutMs ?? 180_000;
  if (!(healthTimeoutMs > 0)) throw new StackConfigError(`healthTimeoutMs must be positive, got ${healthTimeoutMs}`);

  const dir = path.resolve(options.dir ?? (env.EVKIT_STACK_DIR || path.join(REPO_ROOT, '.stack')));
  const artifactsDir = path.resolve(options.artifactsDir ?? (env.EVKIT_STACK_ARTIFACTS_DIR || dir));
  return { dir, artifactsDir, ports, brokers, services: ALL_SERVICES.filter((s) => services.includes(s)), healthTimeoutMs };
}

export interface KafkaNode {
  /** KRaft `node.id`, 1-based. */
  nodeId: number;
  /** Client (PLAINTEXT) port. */
  port: number;
  controllerPort: number;
}

/** The Kafka nodes of a stack: one, or a quorum side by side on loopback. */
export function kafkaNodesOf(config: Pick<StackConfig, 'ports' | 'brokers'>): KafkaNode[] {
  return Array.from({ length: config.brokers }, (_, i) => ({
    nodeId: i + 1,
    port: config.ports.kafka + 2 * i,
    controllerPort: config.ports.kafkaController + 2 * i,
  }));
}

/** Where clients reach the stack. Each can be overridden, e.g. to point tests at the compose stack. */
export interface StackEndpoints {
  kafkaBrokers: string[];
  registryUrl: string;
  connectUrl: string;
  postgresUrl: string;
}

export const POSTGRES_USER = 'evkit';
export const POSTGRES_PASSWORD = 'evkit';
export const POSTGRES_DATABASE = 'evkit';

export function stackEndpoints(config: StackConfig, env: NodeJS.ProcessEnv = process.env): StackEndpoints {
  return {
    kafkaBrokers: env.EVKIT_KAFKA_BROKERS
      ? env.EVKIT_KAFKA_BROKERS.split(',').map((b) => b.trim())
      : kafkaNodesOf(config).map((node) => `127.0.0.1:${node.port}`),
    registryUrl: env.EVKIT_REGISTRY_URL || `http://127.0.0.1:${config.ports.registry}/apis/ccompat/v7`,
    connectUrl: env.EVKIT_CONNECT_URL || `http://127.0.0.1:${config.ports.connect}`,
    postgresUrl:
      env.EVKIT_PG_URL ||
      `postgres://${POSTGRES_USER}:${POSTGRES_PASSWORD}@127.0.0.1:${config.ports.postgres}/${POSTGRES_DATABASE}`,
  };
}

/** The endpoints as they may be printed or logged: the PostgreSQL password (any URL's) masked. */
export function printableEndpoints(endpoints: StackEndpoints): StackEndpoints {
  return {
    kafkaBrokers: endpoints.kafkaBrokers,
    registryUrl: redactUrl(endpoints.registryUrl),
    connectUrl: redactUrl(endpoints.connectUrl),
    postgresUrl: redactUrl(endpoints.postgresUrl),
  };
}
