import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  ALL_SERVICES,
  resolveStackConfig,
  stackEndpoints,
  SUPPORTED_BROKER_COUNTS,
  type ServiceName,
  type StackConfig,
  type StackEndpoints,
  type StackOptions,
} from './config';
import { ensureJava, resolveJvmArtifacts } from './prerequisites';
import { StackPortInUseError } from './errors';
import { isAlive, portInUse, readPid, stopProcess, waitUntilHealthy } from './processes';
import { createServices, LOG4J2_PROPERTIES, stackLayout, type Service } from './services';

export interface ServiceStatus {
  name: ServiceName;
  /** The Kafka node id, when the stack runs several Kafka nodes (`brokers: 3`). */
  node?: number;
  /** The running process, when there is one. */
  pid: number | undefined;
  healthy: boolean;
  logFile: string;
}

export interface LocalStack {
  readonly config: StackConfig;
  readonly endpoints: StackEndpoints;
  /** Installs what is missing, starts what is not running, waits until every service is healthy. */
  up(): Promise<ServiceStatus[]>;
  /** Stops every service of this stack folder; leaves no process behind. */
  down(): Promise<void>;
  status(): Promise<ServiceStatus[]>;
  /**
   * Pid of a running service, for fault tests that kill or pause it. With several Kafka nodes,
   * `node` picks one by its KRaft node id (default: node 1).
   */
  pidOf(name: ServiceName, node?: number): number | undefined;
}

export interface LocalStackOptions extends StackOptions {
  /** Progress lines; silent by default. */
  log?: (line: string) => void;
}

export function createLocalStack(options: LocalStackOptions = {}): LocalStack {
  const config = resolveStackConfig(options);
  const log = options.log ?? (() => {});
  const services = createServices(config);
  const layout = stackLayout(config.dir, config.artifactsDir);

  const runningPid = (service: Service): number | undefined => {
    const pid = readPid(service.pidFile);
    return pid !== undefined && isAlive(pid, service.marker) ? pid : undefined;
  };

  const probe = async (service: Service): Promise<boolean> => {
    try {
      return await service.healthy();
    } catch {
      return false;
    }
  };

  const startOne = async (service: Service): Promise<void> => {
    let pid = runningPid(service);
    if (pid === undefined) {
      fs.rmSync(service.pidFile, { force: true });
      for (const port of service.ports) {
        if (await portInUse(port)) {
          throw new StackPortInUseError(
            `${service.name} cannot start: 127.0.0.1:${port} is taken by a process this stack ` +
              `(${config.dir}) did not start. Stop it, or choose other ports (EVKIT_*_PORT).`,
          );
        }
      }
      service.prepare();
      pid = service.start();
      log(`${describe(service)}: started (pid ${pid}), waiting until healthy`);
    } else {
      log(`${describe(service)}: already running (pid ${pid})`);
    }
    const started = pid;
    await waitUntilHealthy({
      service: describe(service),
      timeoutMs: config.healthTimeoutMs,
      logFile: service.logFile,
      probe: () => service.healthy(),
      stillRunning: () => isAlive(started),
    });
    await service.afterHealthy();
    log(`${describe(service)}: healthy`);
  };

  return {
    config,
    endpoints: stackEndpoints(config),
    async up() {
      for (const dir of [layout.confDir, layout.dataDir, layout.logDir, layout.runDir]) {
        fs.mkdirSync(dir, { recursive: true });
      }
      const jvm = services.filter((s) => s.name !== 'postgres');
      if (jvm.length > 0) {
        ensureJava();
        resolveJvmArtifacts(config.artifactsDir, log);
      }
      fs.writeFileSync(path.join(layout.confDir, 'log4j2.properties'), LOG4J2_PROPERTIES);
      // Connect's storage topics live in Kafka, so it starts after Kafka is healthy; the rest
      // start side by side.
      // The nodes of a Kafka quorum must start together: none is healthy until a majority runs.
      const independent = services.filter((s) => s.name !== 'connect');
      const results = await Promise.allSettled(independent.map(startOne));
      const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failure) throw failure.reason;
      const connect = services.find((s) => s.name === 'connect');
      if (connect) await startOne(connect);
      return this.status();
    },
    async down() {
      // The Kafka nodes of another node count started from this folder are stopped too: down
      // leaves no process of the folder behind, whatever `brokers` was when it started.
      const all = [...services, ...strayKafkaNodes(config, services)];
      const stop = async (service: Service) => {
        const pid = runningPid(service);
        if (pid !== undefined) {
          log(`${describe(service)}: stopping (pid ${pid})`);
          await stopProcess(pid, service.stopSignal);
        }
        fs.rmSync(service.pidFile, { force: true });
      };
      // In reverse start order; the nodes of a quorum together, since a node whose peers are
      // already gone waits for a controller quorum before it shuts down.
      for (const name of [...ALL_SERVICES].reverse()) await Promise.all(all.filter((s) => s.name === name).map(stop));
    },
    async status() {
      return Promise.all(
        services.map(async (service) => {
          const pid = runningPid(service);
          return {
            name: service.name,
            ...(service.node === undefined ? {} : { node: service.node }),
            pid,
            healthy: pid !== undefined && (await probe(service)),
            logFile: service.logFile,
          };
        }),
      );
    },
    pidOf(name, node) {
      const service = services.find((s) => s.name === name && (s.node ?? 1) === (node ?? 1));
      return service ? runningPid(service) : undefined;
    },
  };
}

function describe(service: Service): string {
  return service.node === undefined ? service.name : `${service.name}-${service.node}`;
}

/** Kafka services of this folder under the other node counts (their pid files may name live processes). */
function strayKafkaNodes(config: StackConfig, current: readonly Service[]): Service[] {
  if (!config.services.includes('kafka')) return [];
  const pidFiles = new Set(current.map((s) => s.pidFile));
  const strays = new Map<string, Service>();
  for (const brokers of SUPPORTED_BROKER_COUNTS.filter((count) => count !== config.brokers)) {
    for (const service of createServices({ ...config, brokers, services: ['kafka'] })) {
      if (!pidFiles.has(service.pidFile)) strays.set(service.pidFile, service);
    }
  }
  return [...strays.values()];
}
