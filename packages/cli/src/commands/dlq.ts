import { Command } from 'commander';
import { createReplayer, type DeadLetterEntry, type Replayer, type ReplaySelection } from '@evkit/retry';
import { kafkaTransports, type Output } from '../context';
import { CliUsageError } from '../exit-codes';

interface SelectionFlags {
  type?: string;
  key?: string;
  code?: string;
  class?: string;
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
    errorClass: flags.class,
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
    // The message, on one line and short: `show` prints it whole. The routing removed credentials.
    `error=${oneLine(`${entry.errorClass ?? '?'}: ${entry.errorMessage ?? ''}`, 160)}`,
  ].join('  ');
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function destinations(report: { destinations: Record<string, number> }): string {
  return Object.entries(report.destinations).map(([topic, count]) => `${count} to ${topic}`).join(', ') || 'nothing';
}

/** Runs `work` with a replayer, and closes its producer connection whatever happens. */
async function withReplayer<T>(flags: { brokers?: string }, work: (replayer: Replayer) => Promise<T>): Promise<T> {
  const { publisher, subscriber } = kafkaTransports(flags);
  try {
    return await work(createReplayer({ publisher, subscriber }));
  } finally {
    await publisher.disconnect();
  }
}

function withSelectionOptions(command: Command): Command {
  return command
    .option('--type <eventType>', 'only this CloudEvents type')
    .option('--key <key>', 'only this record key (aggregate id)')
    .option('--code <errorCode>', 'only this evkit error code, e.g. EVKIT_CODEC_BAD_MAGIC_BYTE')
    .option('--class <errorClass>', 'only this error class, e.g. TypeError')
    .option('--from <time>', 'dead-lettered at or after (ISO 8601)')
    .option('--to <time>', 'dead-lettered before (ISO 8601)')
    .option('--partition <n>', 'only this partition of the dead-letter topic')
    .option('--from-offset <offset>', 'from this offset of the dead-letter topic (inclusive)')
    .option('--to-offset <offset>', 'up to this offset (inclusive)');
}

export function dlqCommand(output: (json: boolean) => Output): Command {
  const dlq = new Command('dlq').description('inspect, group, replay and park a dead-letter topic (<topic>.<group>.dlq)');

  withSelectionOptions(dlq.command('list <dlqTopic>').description('list dead-lettered records (parked ones left out) with their diagnostics and error message'))
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

  withSelectionOptions(dlq.command('groups <dlqTopic>').description('dead letters grouped by error code, error class and event type'))
    .option('--brokers <list>', 'Kafka brokers, comma separated')
    .option('--json', 'machine-readable output')
    .action(async (topic: string, flags: SelectionFlags & { brokers?: string; json?: boolean }) => {
      const out = output(flags.json ?? false);
      const groups = await withReplayer(flags, (r) => r.groups(topic, selectionFrom(flags)));
      if (out.json) out.out(JSON.stringify(groups.map((g) => ({ ...g, firstAt: new Date(g.firstAt).toISOString(), lastAt: new Date(g.lastAt).toISOString() })), null, 2));
      else {
        for (const g of groups) {
          out.out([String(g.count).padStart(6), (g.errorCode ?? '-').padEnd(32), (g.errorClass ?? '?').padEnd(20), g.eventType ?? '?', `${new Date(g.firstAt).toISOString()} .. ${new Date(g.lastAt).toISOString()}`, `e.g. ${oneLine(g.sampleMessage ?? '', 100)}`].join('  '));
        }
        out.err(`${groups.length} group(s); replay one with: evkit dlq replay ${topic} --code CODE --type TYPE [--from TIME]`);
      }
    });

  withSelectionOptions(dlq.command('replay <dlqTopic>').description("send selected records to the failing group's replay topic (<topic>.<group>.replay): other groups never see them; resumes where it stopped"))
    .option('--dry-run', 'show what would be replayed where; send and record nothing')
    .option('--to-source', 'send to the original topic instead: every consumer group reads them again')
    .option('--target <topic>', 'send to this topic instead')
    .option('--brokers <list>', 'Kafka brokers, comma separated')
    .option('--json', 'machine-readable output')
    .action(async (topic: string, flags: SelectionFlags & { brokers?: string; json?: boolean; dryRun?: boolean; target?: string; toSource?: boolean }) => {
      const out = output(flags.json ?? false);
      if (flags.target && flags.toSource) throw new CliUsageError('give --target or --to-source, not both');
      const target = flags.target ? { topic: flags.target } : flags.toSource ? ('original' as const) : ('group' as const);
      const report = await withReplayer(flags, (r) => r.replay(topic, selectionFrom(flags), {
        dryRun: flags.dryRun ?? false,
        target,
        onProgress: (p) => out.err(`scanned ${p.scanned}, matched ${p.matched}, replayed ${p.replayed}`),
      }));
      if (out.json) out.out(JSON.stringify({ ...report, entries: report.entries.map(summary) }, null, 2));
      else {
        for (const entry of report.entries) out.out(`${report.dryRun ? 'would replay' : 'replayed'}  ${line(entry)}`);
        out.out(`${report.dryRun ? 'dry run: ' : ''}${report.matched} matched, ${report.replayed} replayed; ${report.dryRun ? 'would send' : 'sent'} ${destinations(report)} (position kept in group ${report.replayGroup})`);
      }
    });

  withSelectionOptions(dlq.command('park <dlqTopic>').description('move selected records to <topic>.<group>.parked with a reason: they leave the list and are never replayed from here'))
    .requiredOption('--reason <text>', 'why, recorded on each parked record')
    .option('--dry-run', 'show what would be parked; send and record nothing')
    .option('--brokers <list>', 'Kafka brokers, comma separated')
    .option('--json', 'machine-readable output')
    .action(async (topic: string, flags: SelectionFlags & { brokers?: string; json?: boolean; dryRun?: boolean; reason: string }) => {
      const out = output(flags.json ?? false);
      const report = await withReplayer(flags, (r) => r.park(topic, selectionFrom(flags), {
        reason: flags.reason,
        dryRun: flags.dryRun ?? false,
        onProgress: (p) => out.err(`scanned ${p.scanned}, matched ${p.matched}, parked ${p.parked}`),
      }));
      if (out.json) out.out(JSON.stringify({ ...report, entries: report.entries.map(summary) }, null, 2));
      else {
        for (const entry of report.entries) out.out(`${report.dryRun ? 'would park' : 'parked'}  ${line(entry)}`);
        out.out(`${report.dryRun ? 'dry run: ' : ''}${report.matched} matched, ${report.parked} parked to ${report.parkedTopic} (position kept in group ${report.parkGroup})`);
      }
    });

  return dlq;
}
