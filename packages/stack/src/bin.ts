#!/usr/bin/env node
import { terminalErrorText } from '@evkit/errors';
import { printableEndpoints, type StackEndpoints } from './config';
import { parseStackArgs } from './args';
import { createLocalStack } from './local-stack';
import { runSmoke } from './smoke';

const USAGE = `usage: evkit-stack <up|down|status|smoke> [--brokers 1|3|5]

  up      install what is missing, start Kafka, Connect + Debezium, Apicurio and PostgreSQL, wait until healthy
  down    stop every service of the stack folder
  status  print each service's pid and health; exit 1 unless all are healthy
  smoke   one round trip through every service (the stack must be up)

  --brokers 3   Kafka as a three-node KRaft quorum on loopback (replication factor 3,
                min.insync.replicas=2); node n on EVKIT_KAFKA_PORT + 2(n-1). Also EVKIT_STACK_BROKERS.

Ports: EVKIT_KAFKA_PORT (19092), EVKIT_KAFKA_CONTROLLER_PORT (19093), EVKIT_REGISTRY_PORT (18081),
EVKIT_CONNECT_PORT (18083), EVKIT_PG_PORT (15432). Folder: EVKIT_STACK_DIR (<repo>/.stack);
jars: EVKIT_STACK_ARTIFACTS_DIR (the stack folder).`;

async function main(args: readonly string[]): Promise<number> {
  let parsed: ReturnType<typeof parseStackArgs>;
  try {
    parsed = parseStackArgs(args);
  } catch (error) {
    // A flag error: the reason with its code, then what the flags are.
    console.error(`${terminalErrorText(error)}\n${USAGE}`);
    return 2;
  }
  const { command, brokers } = parsed;
  const stack = createLocalStack({ log: (line) => console.log(line), ...(brokers === undefined ? {} : { brokers }) });
  switch (command) {
    case 'up': {
      const started = Date.now();
      const statuses = await stack.up();
      printStatus(statuses);
      console.log(`stack up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      printEndpoints(stack.endpoints);
      return 0;
    }
    case 'down':
      await stack.down();
      console.log('stack down');
      return 0;
    case 'status': {
      const statuses = await stack.status();
      printStatus(statuses);
      return statuses.every((s) => s.healthy) ? 0 : 1;
    }
    case 'smoke':
      await runSmoke(stack.endpoints, ({ step, ms, detail }) => console.log(`ok  ${step} (${ms} ms): ${detail}`));
      console.log('smoke run passed');
      return 0;
    default:
      console.error(USAGE);
      return 2;
  }
}

function printStatus(statuses: { name: string; node?: number; pid: number | undefined; healthy: boolean; logFile: string }[]): void {
  for (const s of statuses) {
    const state = s.pid === undefined ? 'stopped' : s.healthy ? 'healthy' : 'unhealthy';
    const name = s.node === undefined ? s.name : `${s.name}-${s.node}`;
    console.log(`${name.padEnd(9)} ${state.padEnd(9)} ${s.pid === undefined ? '-' : `pid ${s.pid}`}  ${s.logFile}`);
  }
}

function printEndpoints(endpoints: StackEndpoints): void {
  for (const [key, value] of Object.entries(printableEndpoints(endpoints))) console.log(`${key.padEnd(13)} ${String(value)}`);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(terminalErrorText(error));
    process.exit(2);
  },
);
