import { Command } from 'commander';
import { createReplayer, type DeadLetterEntry } from '@evkit/retry';
import { createSagaInspector, type SagaDetails, type SagaInspector, type SagaStatus } from '@evkit/saga';
import { createLocalStack } from '@evkit/stack';
import { kafkaTransports, type Output } from '../context';
import { CliUsageError } from '../exit-codes';

const STATUSES: readonly SagaStatus[] = ['running', 'compensating', 'completed', 'compensated', 'stuck'];

/** The connection string comes from EVKIT_PG_URL (or the local stack), never a flag: it carries the password. */
async function withInspector<T>(table: string | undefined, work: (inspector: SagaInspector) => Promise<T>): Promise<T> {
  const connectionString = process.env.EVKIT_PG_URL || createLocalStack().endpoints.postgresUrl;
  const inspector = createSagaInspector({ connectionString, ...(table === undefined ? {} : { table }) });
  try {
    return await work(inspector);
  } finally {
    await inspector.close();
  }
}

/** Dead letters of the saga in these dead-letter topics: those whose correlation id is the saga id. */
async function deadLettersOf(sagaId: string, topics: string[], flags: { brokers?: string }): Promise<DeadLetterEntry[]> {
  const { publisher, subscriber } = kafkaTransports(flags);
  try {
    const replayer = createReplayer({ publisher, subscriber });
    const lists = await Promise.all(topics.map((topic) => replayer.list(topic)));
    return lists.flat().filter((entry) => entry.record.headers.ce_correlationid?.toString() === sagaId);
  } finally {
    await publisher.disconnect();
  }
}

function printSaga(out: Output, saga: SagaDetails, deadLetters: DeadLetterEntry[]): void {
  out.out(`saga ${saga.id} (${saga.name}): ${saga.status} at step ${saga.step}, attempt ${saga.attempt}, version ${saga.version}`);
  out.out(`begun ${saga.createdAt.toISOString()}, updated ${saga.updatedAt.toISOString()}${saga.finishedAt ? `, finished ${saga.finishedAt.toISOString()}` : ''}`);
  out.out(saga.timer ? `pending timer: ${saga.timer.kind} due ${saga.timer.dueAt.toISOString()}` : 'no pending timer');
  if (saga.awaiting.length > 0) out.out(`awaiting replies to: ${saga.awaiting.join(', ')}`);
  out.out('history:');
  for (const h of saga.history) {
    const event = h.eventType ? `  ${h.eventType} ${h.eventId}` : '';
    out.out(`  ${h.at.toISOString()}  v${h.version}  ${h.kind}${h.step ? ` ${h.step}` : ''}${event}${h.detail ? `  (${h.detail})` : ''}`);
  }
  for (const d of deadLetters) out.out(`dead letter: ${d.position.partition}:${d.position.offset} ${d.eventType ?? '?'} ${d.errorCode ?? d.errorClass ?? ''}`);
}

export function sagaCommand(output: (json: boolean) => Output): Command {
  const saga = new Command('saga').description('orchestrated sagas (@evkit/saga): state, history, pending timers; database from $EVKIT_PG_URL or the local stack');
  saga
    .command('list')
    .description('sagas, newest first')
    .option('--name <saga>', 'only sagas of this definition')
    .option('--status <status>', `only sagas in this status: ${STATUSES.join(', ')}`)
    .option('--limit <n>', 'at most this many', '100')
    .option('--table <name>', 'the saga table', 'evkit_saga')
    .option('--json', 'machine-readable output')
    .action(async (flags: { name?: string; status?: string; limit: string; table: string; json?: boolean }) => {
      const out = output(flags.json ?? false);
      if (flags.status !== undefined && !STATUSES.includes(flags.status as SagaStatus)) throw new CliUsageError(`--status must be one of ${STATUSES.join(', ')}`);
      if (!/^[1-9]\d{0,3}$/.test(flags.limit)) throw new CliUsageError(`--limit must be a whole number from 1 to 9999, got ${flags.limit}`);
      const filter = { limit: Number(flags.limit), ...(flags.name ? { name: flags.name } : {}), ...(flags.status ? { status: flags.status as SagaStatus } : {}) };
      const sagas = await withInspector(flags.table, (inspector) => inspector.list(filter));
      if (out.json) return out.out(JSON.stringify(sagas, null, 2));
      for (const s of sagas) out.out(`${s.id}  ${s.name}  ${s.status.padEnd(12)}  ${s.step}  v${s.version}  ${s.updatedAt.toISOString()}`);
      out.err(`${sagas.length} saga(s)`);
    });
  saga
    .command('show <id>')
    .description('one saga: its state, data, pending timer, history and (with --dlq) its dead letters')
    .option('--table <name>', 'the saga table', 'evkit_saga')
    .option('--dlq <topics>', "dead-letter topics to search for the saga's events (by correlation id), comma separated")
    .option('--brokers <list>', 'Kafka brokers for --dlq, comma separated')
    .option('--json', 'machine-readable output')
    .action(async (id: string, flags: { table: string; dlq?: string; brokers?: string; json?: boolean }) => {
      const out = output(flags.json ?? false);
      const details = await withInspector(flags.table, (inspector) => inspector.show(id));
      const topics = flags.dlq?.split(',').map((t) => t.trim()).filter(Boolean) ?? [];
      const deadLetters = topics.length === 0 ? [] : await deadLettersOf(id, topics, flags);
      if (out.json) return out.out(JSON.stringify({ ...details, deadLetters: deadLetters.map(({ record: _record, ...rest }) => rest) }, null, 2));
      printSaga(out, details, deadLetters);
    });
  return saga;
}
