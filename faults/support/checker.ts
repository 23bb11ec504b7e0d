import * as fs from 'node:fs';
import type { Pool } from 'pg';
import { RESULTS_FILE } from './env';
import { knownBugFor } from './known-bugs';
import { sleep } from './faults';
import { committedOffsets } from './kafka';
import type { Ack } from './load';

// One checker for every scenario. Ground truth: the acknowledged sends (or the committed outbox
// rows). Observed: faults_effects (the side effects, written in the dedupe store's transaction)
// and faults_deliveries (every handler call and its outcome). The figures, Jepsen-style:
//
//   lost               acknowledged, never handled, and the group went past it (its committed
//                      offset is beyond the record, or a later event of its key was handled)
//   unseen             acknowledged, not handled, and the group has not gone past it: still
//                      pending when the drain window closed (a stall, not a skip)
//   duplicate effects  a side effect applied more than once for one event id
//   absorbed           deliveries the dedupe store recognised as already processed
//   order violations   an event of a key applied after a later event of the same key (events of
//                      keys that went through a retry tier are exempt: that tier trades order away)
//   recovery           from the end of the fault (restart, resume) to the first side effect after it
//                      (for a leader kill: from the kill until writes to its partition resumed)
//   longest stall      the longest time between two consecutive side effects in the scenario

export interface EffectRow {
  id: string;
  uid: string;
  key: string;
  seq: number;
  member: string;
  applied_ms: string;
}

export interface Figures {
  scenario: string;
  title: string;
  /** Acknowledged events (the ground truth). */
  events: number;
  attempts: number;
  sendFailures: number;
  handled: number;
  lost: number;
  duplicateEffects: number;
  absorbed: number;
  orderViolations: number;
  /** Whether evkit promises order here (blocking or no retries); violations fail the scenario only then. */
  orderPromised: boolean;
  unseen: number;
  /** Handled events nobody acknowledged (a send that failed from the producer's side but landed). */
  unacknowledgedHandled: number;
  /**
   * Failed sends whose outcome was unknown (the broker may have written them), and the events
   * they carried: what a reused sequence number could lose (B1). Load scenarios only.
   */
  unknownOutcome?: { sends: number; events: number };
  /** Acknowledged events that are not at the offset their publish resolved with. Load scenarios only. */
  misplaced?: number;
  deadLettered: number;
  recoveryMs: number | null;
  longestStallMs: number | null;
  durationMs: number;
  notes: string[];
  /** Why the scenario failed; empty when it passed. */
  failures: string[];
  /** Expected to fail (a known bug, reported); recorded but does not fail the run. */
  knownBug?: string;
}

export interface GroundTruth {
  /** Every acknowledged event: uid, key, seq and, for Kafka sends, partition and offset. */
  acked: readonly (Pick<Ack, 'uid' | 'key' | 'seq'> & Partial<Pick<Ack, 'partition' | 'offset'>>)[];
  attempts?: number;
  sendFailures?: number;
}

export interface CheckOptions {
  unknownOutcome?: Figures['unknownOutcome'];
  misplaced?: Figures['misplaced'];
  scenario: string;
  title: string;
  pool: Pool;
  run: string;
  truth: GroundTruth;
  /** To tell lost from unseen: the group and topic whose committed offsets say how far it got. */
  group?: { brokers: string[]; groupId: string; topic: string };
  /** Events that belong in the dead-letter topic instead of being handled (and were found there). */
  deadLettered?: ReadonlySet<string>;
  /** Records dead-lettered that are not in the ground truth (bad records written raw); added to the figure. */
  extraDeadLettered?: number;
  /** Keys that went through a retry tier: no order is promised for them. */
  orderExemptKeys?: ReadonlySet<string>;
  orderPromised: boolean;
  faultAt?: number;
  healAt?: number;
  /** When recovery is measured otherwise (e.g. failover of one partition); wins over healAt. */
  recoveryMs?: number;
  startedAt: number;
  notes?: string[];
  /** Extra conditions of the scenario: a message for each that did not hold. */
  extraFailures?: string[];
}

export async function effectsOf(pool: Pool, run: string): Promise<EffectRow[]> {
  const { rows } = await pool.query<EffectRow>('SELECT id, uid, key, seq, member, applied_ms FROM faults_effects WHERE run = $1 ORDER BY id', [run]);
  return rows;
}

export async function handledUids(pool: Pool, run: string): Promise<Set<string>> {
  const { rows } = await pool.query<{ uid: string }>('SELECT DISTINCT uid FROM faults_effects WHERE run = $1', [run]);
  return new Set(rows.map((r) => r.uid));
}

/**
 * Waits until every acknowledged event was handled (or is among `accounted`, e.g. dead-lettered),
 * bounded by `timeoutMs`; then `settleMs` more, so late duplicates show up. Stops early when what
 * is missing can no longer come: a later event of the same key was handled (the key went past
 * it) and nothing changed for `settleMs`. Answers whether it drained.
 */
export async function drain(
  pool: Pool,
  run: string,
  truth: GroundTruth,
  { timeoutMs, settleMs = 2000, accounted = () => new Set<string>() }: { timeoutMs: number; settleMs?: number; accounted?: () => ReadonlySet<string> },
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let drained = false;
  let skippedSince: number | undefined;
  while (Date.now() < deadline) {
    const { rows } = await pool.query<{ uid: string; key: string; seq: number }>('SELECT DISTINCT uid, key, seq FROM faults_effects WHERE run = $1', [run]);
    const handled = new Set(rows.map((r) => r.uid));
    const other = accounted();
    const missing = truth.acked.filter((a) => !handled.has(a.uid) && !other.has(a.uid));
    if (missing.length === 0) {
      drained = true;
      break;
    }
    const highest = new Map<string, number>();
    for (const r of rows) highest.set(r.key, Math.max(highest.get(r.key) ?? -1, r.seq));
    if (missing.every((a) => (highest.get(a.key) ?? -1) > a.seq)) {
      skippedSince ??= Date.now();
      if (Date.now() - skippedSince >= Math.max(settleMs, 5000)) return false; // skipped for good: the checker counts them lost
    } else {
      skippedSince = undefined;
    }
    await sleep(250);
  }
  await sleep(settleMs);
  return drained;
}

export async function check(options: CheckOptions): Promise<Figures> {
  const { pool, run, truth } = options;
  const effects = await effectsOf(pool, run);
  const { rows: absorbedRows } = await pool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM faults_deliveries WHERE run = $1 AND outcome = 'duplicate'",
    [run],
  );
  const { rows: failedRows } = await pool.query<{ code: string | null; n: number }>(
    "SELECT code, count(*)::int AS n FROM faults_deliveries WHERE run = $1 AND outcome = 'failed' GROUP BY code ORDER BY n DESC",
    [run],
  );
  const failedNote = failedRows.length === 0 ? [] : [`failed handler attempts: ${failedRows.map((r) => `${r.n} ${r.code ?? '?'}`).join(', ')}`];
  const deadLettered = options.deadLettered ?? new Set<string>();
  const ackedUids = new Set(truth.acked.map((a) => a.uid));

  // Duplicate effects.
  const perUid = new Map<string, number>();
  for (const e of effects) perUid.set(e.uid, (perUid.get(e.uid) ?? 0) + 1);
  const duplicateEffects = [...perUid.values()].reduce((sum, n) => sum + (n - 1), 0);

  // Order: per key, in the order the effects were applied.
  let orderViolations = 0;
  const highest = new Map<string, number>();
  const violations: string[] = [];
  for (const e of effects) {
    if (options.orderExemptKeys?.has(e.key)) continue;
    const top = highest.get(e.key);
    if (top !== undefined && e.seq < top) {
      orderViolations += 1;
      if (violations.length < 5) violations.push(`${e.key}: seq ${e.seq} after ${top}`);
    }
    highest.set(e.key, Math.max(top ?? -1, e.seq));
  }

  // Lost and unseen.
  const committed = options.group ? await committedOffsets(options.group.brokers, options.group.groupId, options.group.topic).catch(() => new Map<number, bigint>()) : new Map<number, bigint>();
  const handledSeqs = new Map<string, number>();
  for (const e of effects) handledSeqs.set(e.key, Math.max(handledSeqs.get(e.key) ?? -1, e.seq));
  let lost = 0;
  let unseen = 0;
  const lostExamples: string[] = [];
  for (const a of truth.acked) {
    if (perUid.has(a.uid) || deadLettered.has(a.uid)) continue;
    const passedByOffset = a.partition !== undefined && a.offset !== undefined && (committed.get(a.partition) ?? -1n) > BigInt(a.offset);
    const passedByKey = (handledSeqs.get(a.key) ?? -1) > a.seq;
    if (passedByOffset || passedByKey) {
      lost += 1;
      if (lostExamples.length < 5) lostExamples.push(`${a.key}#${a.seq} (${a.uid}${a.partition === undefined ? '' : ` at ${a.partition}@${a.offset}`})`);
    } else {
      unseen += 1;
    }
  }
  const unacknowledgedHandled = [...perUid.keys()].filter((uid) => !ackedUids.has(uid)).length;

  // Recovery and stalls, from the effects' timestamps.
  const times = effects.map((e) => Number(e.applied_ms)).sort((a, b) => a - b);
  const healAt = options.healAt;
  const after = healAt === undefined ? undefined : times.find((t) => t >= healAt);
  const recoveryMs = options.recoveryMs ?? (healAt === undefined || after === undefined ? null : after - healAt);
  let longestStallMs: number | null = null;
  for (let i = 1; i < times.length; i += 1) longestStallMs = Math.max(longestStallMs ?? 0, times[i]! - times[i - 1]!);

  const failures = [...(options.extraFailures ?? [])];
  if (lost > 0) failures.push(`${lost} acknowledged event(s) lost: ${lostExamples.join(', ')}`);
  if (duplicateEffects > 0) failures.push(`${duplicateEffects} duplicate side effect(s)`);
  if (options.orderPromised && orderViolations > 0) failures.push(`${orderViolations} per-key order violation(s): ${violations.join('; ')}`);
  if (unseen > 0) failures.push(`${unseen} acknowledged event(s) still unhandled when the drain window closed (no recovery)`);
  if (truth.acked.length === 0) failures.push('no event was acknowledged: the scenario tested nothing');
  if (options.misplaced) failures.push(`${options.misplaced} acknowledged event(s) not at the offset their publish resolved with`);

  const figures: Figures = {
    scenario: options.scenario,
    title: options.title,
    events: truth.acked.length,
    attempts: truth.attempts ?? truth.acked.length,
    sendFailures: truth.sendFailures ?? 0,
    handled: truth.acked.filter((a) => perUid.has(a.uid)).length,
    lost,
    duplicateEffects,
    absorbed: absorbedRows[0]?.n ?? 0,
    orderViolations,
    orderPromised: options.orderPromised,
    unseen,
    unacknowledgedHandled,
    deadLettered: deadLettered.size + (options.extraDeadLettered ?? 0),
    recoveryMs,
    longestStallMs,
    durationMs: Date.now() - options.startedAt,
    notes: [...(options.notes ?? []), ...failedNote],
    failures,
    ...(options.unknownOutcome === undefined ? {} : { unknownOutcome: options.unknownOutcome }),
    ...(options.misplaced === undefined ? {} : { misplaced: options.misplaced }),
  };
  const known = knownBugFor(options.scenario, failures);
  if (known) figures.knownBug = known.summary;
  recordFigures(figures);
  return figures;
}

export function recordFigures(figures: Figures): void {
  fs.appendFileSync(RESULTS_FILE, `${JSON.stringify({ ...figures, at: new Date().toISOString() })}\n`);
  process.stdout.write(`${formatFigures(figures)}\n`);
}

export function formatFigures(f: Figures): string {
  const ms = (v: number | null) => (v === null ? '-' : `${(v / 1000).toFixed(1)} s`);
  const verdict = f.failures.length === 0 ? 'PASS' : f.knownBug ? 'KNOWN BUG' : 'FAIL';
  return [
    `[faults] ${f.scenario} ${f.title}: ${verdict}`,
    `  events ${f.events} (attempts ${f.attempts}, send failures ${f.sendFailures}), handled ${f.handled}, dead-lettered ${f.deadLettered}`,
    `  lost ${f.lost}, duplicate effects ${f.duplicateEffects}, absorbed ${f.absorbed}, order violations ${f.orderViolations}${f.orderPromised ? '' : ' (order not promised)'}, unseen ${f.unseen}, unacknowledged handled ${f.unacknowledgedHandled}`,
    `  recovery ${ms(f.recoveryMs)}, longest stall ${ms(f.longestStallMs)}, duration ${ms(f.durationMs)}`,
    ...f.notes.map((n) => `  note: ${n}`),
    ...f.failures.map((n) => `  FAILED: ${n}`),
    ...(f.knownBug ? [`  known bug: ${f.knownBug}`] : []),
  ].join('\n');
}

/** The scenario's verdict for Jest: throws with the figures unless it passed (or is a known bug). */
export function assertPassed(figures: Figures): void {
  if (figures.failures.length > 0 && !figures.knownBug) throw new Error(formatFigures(figures));
}
