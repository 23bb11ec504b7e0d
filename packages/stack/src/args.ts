import { parseCommandLine } from '@evkit/errors';
import { StackConfigError } from './errors';

const OPTIONS = { brokers: { type: 'string' } } as const;

/**
 * `[command, ...flags]` → the command (undefined when none is given) and the broker count, if
 * given. An unknown flag, a `--brokers` without a count, or a second command is a
 * StackConfigError naming it.
 */
export function parseStackArgs(args: readonly string[]): { command: string | undefined; brokers: number | undefined } {
  const usageError = (message: string) => new StackConfigError(message);
  const { values, positionals } = parseCommandLine(args, OPTIONS, usageError);
  if (positionals.length > 1) throw usageError(`one command at a time, got ${positionals.map((p) => JSON.stringify(p)).join(' ')}`);
  const raw = values.brokers;
  if (raw !== undefined && !/^\d+$/.test(raw)) throw usageError(`--brokers must be a number of brokers, got ${JSON.stringify(raw)}`);
  return { command: positionals[0], brokers: raw === undefined ? undefined : Number(raw) };
}
