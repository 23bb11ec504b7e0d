import { Command } from 'commander';
import { createLocalStack, printableEndpoints } from '@evkit/stack';
import type { Output } from '../context';
import { CliFindingError } from '../exit-codes';

export function stackCommand(output: (json: boolean) => Output): Command {
  const stack = new Command('stack').description('the local stack without Docker: Kafka, Connect + Debezium, Apicurio, PostgreSQL');
  stack
    .command('up')
    .description('install what is missing, start everything, wait until healthy')
    .option('--json', 'machine-readable output')
    .action(async (flags: { json?: boolean }) => {
      const out = output(flags.json ?? false);
      const local = createLocalStack({ log: (line) => out.err(line) });
      const statuses = await local.up();
      out.out(out.json ? JSON.stringify({ services: statuses, endpoints: printableEndpoints(local.endpoints) }, null, 2) : statuses.map((s) => `${s.name} healthy pid ${s.pid}`).join('\n'));
    });
  stack
    .command('down')
    .description('stop every service; no process is left behind')
    .action(async () => {
      await createLocalStack({ log: (line) => output(false).err(line) }).down();
    });
  stack
    .command('status')
    .description('pid and health of each service; exit 1 unless all are healthy')
    .option('--json', 'machine-readable output')
    .action(async (flags: { json?: boolean }) => {
      const out = output(flags.json ?? false);
      const statuses = await createLocalStack().status();
      out.out(out.json ? JSON.stringify(statuses, null, 2) : statuses.map((s) => `${s.name.padEnd(9)} ${s.pid === undefined ? 'stopped' : s.healthy ? 'healthy' : 'unhealthy'}`).join('\n'));
      if (!statuses.every((s) => s.healthy)) throw new CliFindingError('not every service is healthy');
    });
  return stack;
}
