import type { Pool } from 'pg';
import type { DeadLetter } from './dlq';
import type { Ack } from './load';

// What scenarios with one misbehaving key (10, 12) check besides the figures: how long the other
// keys waited, and that the misbehaving key's events are in the dead-letter topic as they should be.

/** Acknowledgement to side effect of every key but `key`, ms, sorted: on `partition` and on the others. */
export async function otherKeysLatency(pool: Pool, run: string, key: string, acked: readonly Ack[], partition: number): Promise<{ same: number[]; elsewhere: number[] }> {
  const { rows } = await pool.query<{ uid: string; applied_ms: string }>('SELECT uid, applied_ms FROM faults_effects WHERE run = $1 AND key <> $2', [run, key]);
  const ack = new Map(acked.map((a) => [a.uid, a]));
  const latency = (samePartition: boolean) =>
    rows
      .filter((r) => (ack.get(r.uid)?.partition === partition) === samePartition)
      .map((r) => Number(r.applied_ms) - (ack.get(r.uid)?.at ?? Number(r.applied_ms)))
      .sort((a, b) => a - b);
  return { same: latency(true), elsewhere: latency(false) };
}

/** p50, p99 and max of sorted values, for the notes. */
export function describeLatencies(values: readonly number[]): string {
  const at = (p: number) => values[Math.min(values.length - 1, Math.floor((p / 100) * values.length))] ?? 0;
  return values.length === 0 ? 'none' : `p50 ${at(50)} ms, p99 ${at(99)} ms, max ${values.at(-1)} ms`;
}

/** Why the dead letters are not exactly `expected`, each once with `maxAttempts` attempts and a reason (empty when they are). */
export function deadLetterFailures(letters: readonly DeadLetter[], expected: ReadonlySet<string>, maxAttempts: number): string[] {
  const failures: string[] = [];
  const strays = letters.filter((l) => !l.uid || !expected.has(l.uid));
  if (strays.length > 0) failures.push(`${strays.length} event(s) of other keys dead-lettered`);
  const copies = new Map<string, number>();
  for (const l of letters) if (l.uid) copies.set(l.uid, (copies.get(l.uid) ?? 0) + 1);
  const twice = [...copies].filter(([, n]) => n > 1);
  if (twice.length > 0) failures.push(`${twice.length} event(s) dead-lettered more than once (${twice[0]![0]}: ${twice[0]![1]} times)`);
  const badAttempts = letters.filter((l) => l.uid && expected.has(l.uid) && l.attempts !== maxAttempts);
  if (badAttempts.length > 0) failures.push(`${badAttempts.length} dead letter(s) without ${maxAttempts} attempts (got ${badAttempts[0]!.attempts})`);
  if (letters.some((l) => !l.reason)) failures.push('a dead letter without a reason');
  const found = new Set(letters.map((l) => l.uid));
  const missing = [...expected].filter((uid) => !found.has(uid));
  if (missing.length > 0) failures.push(`${missing.length} event(s) of the failing key neither handled nor dead-lettered`);
  return failures;
}
