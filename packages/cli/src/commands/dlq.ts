import { Command } from 'commander';
import { createReplayer, type DeadLetterEntry, type Replayer, type ReplaySelection } from '@evkit/retry';
import { createKafkaJsPublisher, createKafkaJsSubscriber } from '@evkit/transport-kafkajs';
import { kafkaOptions, type Output } from '../context';
import { CliUsageError } from '../exit-codes';

interface SelectionFlags {
  type?: string;
  key?: string;
  code?: string;
  from?: string;
  to?: string;
  partition?: string;
  fromOffset?: string;
  toOffset?: string;
}

function date(flag: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const parsed = new Date(value);
  if (Number.isNaN(parsed.getTime())) throw new CliUsageError(`--${flag} must be a date or time (ISO 8601), got ${value}`);
  return parsed;
}

function offset(flag: string, value: string | undefined): string | undefined {
  if (value !== undefined && !/^\d+$/.test(value)) throw new CliUsageError(`--${flag} must be an offset (a whole number), got ${value}`);
  return value;
}

export function selectionFrom(flags: SelectionFlags): ReplaySelection {
  const partition = offset('partition', flags.partition);
  const selection: ReplaySelection = {
    eventType: flags.type,
    key: flags.key,
    errorCode: flags.code,
    from: date('from', flags.from),
    to: date('to', flags.to),
    partition: partition === undefined ? undefined : Number(partition),
    fromOffset: offset('from-offset', flags.fromOffset),
    toOffset: offset('to-offset', flags.toOffset),
  };
  return Object.fromEntries(Object.entries(selection).filter(([, v]) => v !== undefined));
}

/** A dead-letter entry for people or machines: the record's bytes as base64, no secrets (the headers carry none). */
function summary(entry: DeadLetterEntry) {
  const { record, ...rest } = entry;
  return { ...rest, valueBase64: record.value?.toString('base64') ?? null, valueBytes: record.value?.length ?? 0 };
}

function line(entry: DeadLetterEntry): string {
  const { partition, offset: at } = entry.position;
  return [
    `${partition}:${at}`.padEnd(9),
    new Date(entry.timestamp).toISOString(),
    (entry.errorCode ?? entry.errorClass ?? '?').padEnd(32),
    `key=${entry.key ?? '(none)'}`,
    `type=${entry.eventType ?? '?'}`,
    `attempts=${entry.attempts ?? '?'}`,
    `from=${entry.original.topic ?? '?'}[${entry.original.partition ?? '?'}]@${entry.original.offset ?? '?'}`,
  ].join('  ');
}

/** Runs `work` with a replayer, and closes its producer connection whatever happens. */
async function withReplayer<T>(flags: { brokers?: string }, work: (replayer: Replayer) => Promise<T>): Promise<T> {
  const options = kafkaOptions(flags);
  const publisher = createKafkaJsPublisher(options);
  try {
    return await work(createReplayer({ publisher, subscriber: () => createKafkaJsSubscriber(options) }));
  } finally {
    await publisher.disconnect();
  }
}

function withSelectionOptions(command: Command): Command {
  return command
    .option('--type <eventType>', 'only this CloudEvents type')
    .option('--key <key>', 'only this record key (aggregate id)')
    .option('--code <errorCode>', 'only this evkit error code, e.g. EVKIT_CODEC_BAD_MAGIC_BYTE')
    .option('--from <time>', 'dead-lettered at or after (ISO 8601)')
    .option('--to <time>', 'dead-lettered before (ISO 8601)')
    .option('--partition <n>', 'only this partition of the dead-letter topic')
    .option('--from-offset <offset>', 'from this offset of the dead-letter topic (inclusive)')
    .option('--to-offset <offset>', 'up to this offset (inclusive)');
}

export function dlqCommand(output: (json: boolean) => Output): Command {
  const dlq = new Command('dlq').description('inspect and replay a dead-letter topic (<topic>.<group>.dlq)');

  withSelectionOptions(dlq.command('list <dlqTopic>').description('list dead-lettered records with their diagnostics'))
    .option('--brokers <list>', 'Kafka brokers, comma separated (default: $EVKIT_KAFKA_BROKERS or the local stack)')
    .option('--json', 'machine-readable output')
    .action(async (topic: string, flags: SelectionFlags & { brokers?: string; json?: boolean }) => {
      const out = output(flags.json ?? false);
      const entries = await withReplayer(flags, (r) => r.list(topic, selectionFrom(flags)));
      if (out.json) out.out(JSON.stringify(entries.map(summary), null, 2));
      else {
        for (const entry of entries) out.out(line(entry));
        out.err(`${entries.length} record(s)`);
      }
    });

  dlq
    .command('show <dlqTopic> <partition> <offset>')
    .description('one dead-lettered record: every diagnostic header and the value')
    .option('--brokers <list>', 'Kafka brokers, comma separated')
    .option('--json', 'machine-readable output')
    .action(async (topic: string, partition: string, at: string, flags: { brokers?: string; json?: boolean }) => {
      const out = output(flags.json ?? false);
      const entry = await withReplayer(flags, (r) => r.show(topic, Number(offset('partition', partition)), offset('offset', at)!));
      if (!entry) throw new CliUsageError(`no record at ${topic}[${partition}]@${at}`);
      if (out.json) out.out(JSON.stringify(summary(entry), null, 2));
      else {
        out.out(line(entry));
        out.out(`  error:     ${entry.errorClass ?? '?'}: ${entry.errorMessage ?? ''}`);
        out.out(`  handler:   ${entry.handler ?? '?'}   group: ${entry.consumerGroup ?? '?'}`);
        out.out(`  failures:  first ${entry.firstFailure ?? '?'}, last ${entry.lastFailure ?? '?'}`);
        out.out(`  event id:  ${entry.eventId ?? '?'}`);
        out.out(`  value:     ${entry.record.value?.length ?? 0} bytes, base64 ${entry.record.value?.toString('base64').slice(0, 120) ?? ''}`);
      }
    });

  withSelectionOptions(dlq.command('replay <dlqTopic>').description('send selected records back to their original topic; resumes where it stopped'))
    .option('--dry-run', 'show what would be replayed; send and record nothing')
    .option('--target <topic>', 'send to this topic instead (e.g. a retry tier)')
    .option('--brokers <list>', 'Kafka brokers, comma separated')
    .option('--json', 'machine-readable output')
    .action(async (topic: string, flags: SelectionFlags & { brokers?: string; json?: boolean; dryRun?: boolean; target?: string }) => {
      const out = output(flags.json ?? false);
      const report = await withReplayer(flags, (r) => r.replay(topic, selectionFrom(flags), {
        dryRun: flags.dryRun ?? false,
        ...(flags.target ? { target: { topic: flags.target } } : {}),
        onProgress: (p) => out.err(`scanned ${p.scanned}, matched ${p.matched}, replayed ${p.replayed}`),
      }));
      if (out.json) out.out(JSON.stringify({ ...report, entries: report.entries.map(summary) }, null, 2));
      else {
        for (const entry of report.entries) out.out(`${report.dryRun ? 'would replay' : 'replayed'}  ${line(entry)}`);
        out.out(`${report.dryRun ? 'dry run: ' : ''}${report.matched} matched, ${report.replayed} replayed (position kept in group ${report.replayGroup})`);
      }
    });

  return dlq;
}
