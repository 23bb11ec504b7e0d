import { Command } from 'commander';
import { createConsole, isLoopback } from '@evkit/console';
import { kafkaClient, kafkaOptions, kafkaTransports, registryOptions, type Output } from '../context';
import { CliUsageError } from '../exit-codes';
import { readGroupLag } from '../lag';
import { parseAvro } from '../schemas/avro-tree';
import { diffSchemas } from '../schemas/diff';

interface ConsoleFlags {
  host: string;
  port: string;
  token?: string;
  brokers?: string;
  registryUrl?: string;
  groups?: string;
}

/** How long the console waits for a lagging partition's oldest record before showing its time lag as unknown. */
const LAG_TIMEOUT_MS = 5000;

/**
 * `evkit console`: the operations console of @evkit/console, given the CLI's own lag reader and
 * schema diff, so the page shows exactly what `evkit lag` and `evkit schemas diff` print.
 */
export function consoleCommand(output: (json: boolean) => Output, signals: NodeJS.EventEmitter = process): Command {
  return new Command('console')
    .description('a local web page for dead letters (decoded, replayed to their group, parked), consumer lag and schema history')
    .option('--host <address>', 'address to listen on; anything but loopback needs a token', '127.0.0.1')
    .option('--port <n>', 'port to listen on (0: any free one)', '7070')
    .option('--token <token>', 'required off loopback (default: $EVKIT_CONSOLE_TOKEN); open the page with /?token=<token>')
    .option('--groups <list>', 'consumer groups whose lag to show, comma separated (default: every group with members)')
    .option('--brokers <list>', 'Kafka brokers, comma separated (default: $EVKIT_KAFKA_BROKERS or the local stack)')
    .option('--registry-url <url>', 'schema registry (default: $EVKIT_REGISTRY_URL or the local stack)')
    .action(async (flags: ConsoleFlags) => {
      const out = output(false);
      if (!/^\d{1,5}$/.test(flags.port)) throw new CliUsageError(`--port must be a port number, got ${flags.port}`);
      const token = flags.token ?? (process.env.EVKIT_CONSOLE_TOKEN || undefined);
      if (!isLoopback(flags.host) && token === undefined) {
        throw new CliUsageError(`--host ${flags.host} is not loopback: give a token with --token or EVKIT_CONSOLE_TOKEN`);
      }
      const kafka = kafkaClient(flags);
      // Replays go through EVKIT_TRANSPORT's client, as `evkit dlq replay` does; groups and offsets through KafkaJS's admin, as `evkit lag`.
      const transports = process.env.EVKIT_TRANSPORT ? kafkaTransports(flags) : undefined;
      const evkitConsole = createConsole({
        kafka: { ...kafkaOptions(flags), clientId: 'evkit-console' },
        ...(transports && { transports: { publisher: () => transports.publisher, subscriber: transports.subscriber } }),
        registry: registryOptions(flags),
        host: flags.host,
        port: Number(flags.port),
        ...(token === undefined ? {} : { token }),
        ...(flags.groups === undefined ? {} : { groups: flags.groups.split(',').map((g) => g.trim()).filter(Boolean) }),
        lag: (groupId) => readGroupLag(kafka, groupId, { timeoutMs: LAG_TIMEOUT_MS }),
        diffSchemas: (before, after) => diffSchemas(parseAvro(before), parseAvro(after)),
      });
      const url = await evkitConsole.start();
      out.out(`evkit console on ${url}${token === undefined ? '' : '  (open it with ?token=<your token>)'}`);
      out.err('Ctrl-C stops it');
      await new Promise<void>((resolve) => {
        signals.once('SIGINT', resolve);
        signals.once('SIGTERM', resolve);
      });
      await evkitConsole.close();
    });
}
