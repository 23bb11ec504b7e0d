import { Command } from 'commander';
import { kafkaClient, type Output } from '../context';
import { CliUsageError } from '../exit-codes';
import { readGroupLag, type GroupLag } from '../lag';

/** `12 ms`, `4.2 s`, `3m 07s`, `26h 01m 09s`; `unknown` when the record could not be read. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return 'unknown';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.floor(ms / 1000);
  const [h, m, s] = [Math.floor(seconds / 3600), Math.floor(seconds / 60) % 60, seconds % 60];
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}h ${pad(m)}m ${pad(s)}s` : `${m}m ${pad(s)}s`;
}

/** The lag as an aligned table, one partition a row. */
export function lagTable(lag: GroupLag): string[] {
  const rows = [
    ['TOPIC', 'PARTITION', 'COMMITTED', 'END', 'LAG', 'TIME LAG'],
    ...lag.partitions.map((p) => [p.topic, String(p.partition), p.committedOffset ?? '-', p.highWatermark, String(p.offsetLag), formatDuration(p.timeLagMs)]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
}

export function lagCommand(output: (json: boolean) => Output): Command {
  return new Command('lag')
    .description('offset lag and time lag (age of the oldest unhandled record) of a consumer group, per partition')
    .argument('<group>', 'the consumer group id')
    .option('--topics <list>', 'comma separated (default: every topic the group has committed offsets for)')
    .option('--brokers <list>', 'Kafka brokers, comma separated (default: $EVKIT_KAFKA_BROKERS or the local stack)')
    .option('--timeout <ms>', 'how long to wait for the oldest unhandled records before reporting their time lag as unknown', '15000')
    .option('--json', 'machine-readable output')
    .action(async (group: string, flags: { topics?: string; brokers?: string; timeout: string; json?: boolean }) => {
      const out = output(flags.json ?? false);
      // Up to Node's longest timer: a longer one fires at once.
      if (!/^[1-9]\d*$/.test(flags.timeout) || Number(flags.timeout) > 2 ** 31 - 1) {
        throw new CliUsageError(`--timeout must be a positive number of milliseconds up to 2147483647, got ${flags.timeout}`);
      }
      const topics = flags.topics?.split(',').map((t) => t.trim()).filter(Boolean);
      if (topics !== undefined && topics.length === 0) throw new CliUsageError('--topics needs at least one topic');
      const lag = await readGroupLag(kafkaClient(flags), group, { ...(topics ? { topics } : {}), timeoutMs: Number(flags.timeout) });
      if (out.json) {
        out.out(JSON.stringify(lag, null, 2));
        return;
      }
      out.out(`group ${lag.groupId}: ${lag.state}, ${lag.members} member(s)`);
      if (lag.partitions.length === 0) {
        out.out('no committed offsets; give --topics to see the lag of a group that has not committed yet');
        return;
      }
      for (const line of lagTable(lag)) out.out(line);
      const total = lag.partitions.reduce((sum, p) => sum + p.offsetLag, 0);
      const times = lag.partitions.map((p) => p.timeLagMs);
      const oldest = times.includes(null) ? null : Math.max(...(times as number[]));
      out.out(`total lag ${total} record(s); oldest unhandled record ${formatDuration(oldest)} old`);
    });
}
