import { Command, InvalidArgumentError } from 'commander';
import { runCommandLine, type CommandLineIo } from '@evkit/errors';
import { printableEndpoints, SUPPORTED_BROKER_COUNTS, type StackEndpoints } from './config';
import { StackConfigError } from './errors';
import { createLocalStack, type ServiceStatus } from './local-stack';
import { runSmoke } from './smoke';

const ENVIRONMENT = `
Three brokers: Kafka as a three-node KRaft quorum on loopback (replication factor 3,
min.insync.replicas=2); node n on EVKIT_KAFKA_PORT + 2(n-1). Also EVKIT_STACK_BROKERS.

Ports: EVKIT_KAFKA_PORT (19092), EVKIT_KAFKA_CONTROLLER_PORT (19093), EVKIT_REGISTRY_PORT (18081),
EVKIT_CONNECT_PORT (18083), EVKIT_PG_PORT (15432). Folder: EVKIT_STACK_DIR (<repo>/.stack);
jars: EVKIT_STACK_ARTIFACTS_DIR (the stack folder).`;

/**
 * The `evkit-stack` command line (and the body of `evkit stack`): runs one command and resolves
 * with its exit code (0 ok, 1 a service is not healthy, 2 usage or failure); it never throws.
 */
export async function runStackCli(argv: readonly string[], io: CommandLineIo): Promise<number> {
  let exitCode = 0;
  const program = new Command('evkit-stack')
    .description('the local stack without Docker: Kafka (KRaft), Kafka Connect + Debezium, Apicurio Registry, PostgreSQL, on loopback')
    .option('--brokers <count>', `Kafka nodes: ${SUPPORTED_BROKER_COUNTS.join(', ')}`, parseBrokers)
    .addHelpText('after', ENVIRONMENT);
  const stackOf = (command: Command) => {
    const { brokers } = command.optsWithGlobals<{ brokers?: number }>();
    return createLocalStack({ log: (line) => io.out(line), ...(brokers === undefined ? {} : { brokers }) });
  };
  program
    .command('up')
    .description('install what is missing, start every service, wait until healthy')
    .option('--json', 'print the services and endpoints as JSON')
    .action(async (flags: { json?: boolean }, command: Command) => {
      const started = Date.now();
      const stack = stackOf(command);
      const statuses = await stack.up();
      if (flags.json) return io.out(JSON.stringify({ services: statuses, endpoints: printableEndpoints(stack.endpoints) }, null, 2));
      printStatus(io, statuses);
      io.out(`stack up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      printEndpoints(io, stack.endpoints);
    });
  program
    .command('down')
    .description('stop every service of the stack folder; no process is left behind')
    .action(async (_flags: object, command: Command) => {
      await stackOf(command).down();
      io.out('stack down');
    });
  program
    .command('status')
    .description("each service's pid and health; exit 1 unless all are healthy")
    .option('--json', 'print the statuses as JSON')
    .action(async (flags: { json?: boolean }, command: Command) => {
      const statuses = await stackOf(command).status();
      if (flags.json) io.out(JSON.stringify(statuses, null, 2));
      else printStatus(io, statuses);
      if (!statuses.every((s) => s.healthy)) exitCode = 1;
    });
  program
    .command('smoke')
    .description('one round trip through every service (the stack must be up)')
    .action(async (_flags: object, command: Command) => {
      await runSmoke(stackOf(command).endpoints, ({ step, ms, detail }) => io.out(`ok  ${step} (${ms} ms): ${detail}`));
      io.out('smoke run passed');
    });
  const code = await runCommandLine(program, argv, {
    ...io,
    usageError: (message, cause) => new StackConfigError(message, { cause }),
    exitCodeFor: () => 2,
  });
  return code === 0 ? exitCode : code;
}

function parseBrokers(text: string): number {
  const count = Number(text);
  if (!/^\d+$/.test(text) || !SUPPORTED_BROKER_COUNTS.includes(count)) {
    throw new InvalidArgumentError(`must be one of ${SUPPORTED_BROKER_COUNTS.join(', ')}, got ${JSON.stringify(text)}`);
  }
  return count;
}

function printStatus(io: CommandLineIo, statuses: readonly ServiceStatus[]): void {
  for (const s of statuses) {
    const state = s.pid === undefined ? 'stopped' : s.healthy ? 'healthy' : 'unhealthy';
    const name = s.node === undefined ? s.name : `${s.name}-${s.node}`;
    io.out(`${name.padEnd(9)} ${state.padEnd(9)} ${s.pid === undefined ? '-' : `pid ${s.pid}`}  ${s.logFile}`);
  }
}

function printEndpoints(io: CommandLineIo, endpoints: StackEndpoints): void {
  for (const [key, value] of Object.entries(printableEndpoints(endpoints))) io.out(`${key.padEnd(13)} ${String(value)}`);
}
