import { metrics, type BatchObservableCallback } from '@opentelemetry/api';
import type { Pool } from 'pg';
import { startRetention, type Retention } from '@evkit/idempotency';
import { databaseError } from './database';
import { OutboxConfigError } from './errors';
import { outboxTable } from './table';
import { requireFunction, requireInteger, requireOptions, requirePool } from './validation';

/**
 * Which relay reads the table. `polling`: rows are marked sent, and only sent rows may go. `debezium`:
 * the relay reads the WAL, not the table; a row is relayed from the INSERT's WAL record whatever
 * happens to the row afterwards, so any committed row may go (the replication slot keeps the WAL
 * until the connector has it).
 */
export type OutboxRelayKind = 'polling' | 'debezium';

export interface OutboxCleanerOptions {
  pool: Pool;
  /** Default `evkit_outbox`. */
  table?: string;
  relay: OutboxRelayKind;
  /** Rows per DELETE statement; each is its own short transaction. Default 10,000. */
  deleteBatchSize?: number;
}

export interface OutboxCleaner {
  /** Deletes rows created more than `maxAgeMs` ago (polling: only sent ones); resolves with how many. */
  deleteOlderThan(maxAgeMs: number): Promise<number>;
}

export function createOutboxCleaner(options: OutboxCleanerOptions): OutboxCleaner {
  requireOptions(options);
  const { pool, relay, deleteBatchSize = 10_000 } = options;
  requirePool(pool);
  requireRelay(relay);
  requireInteger(deleteBatchSize, 'deleteBatchSize');
  const table = outboxTable(options.table);
  const sent = relay === 'polling' ? 'AND sent_at IS NOT NULL ' : '';
  // SKIP LOCKED: several instances share the work, and a row a relay holds is left to it.
  const deleteChunk =
    `DELETE FROM ${table.qualified} WHERE id IN (SELECT id FROM ${table.qualified} ` +
    `WHERE created_at < now() - make_interval(secs => $1::float8 / 1000) ${sent}LIMIT $2 FOR UPDATE SKIP LOCKED)`;
  return {
    async deleteOlderThan(maxAgeMs) {
      requireAge(maxAgeMs);
      let total = 0;
      try {
        for (;;) {
          const chunk = (await pool.query(deleteChunk, [maxAgeMs, deleteBatchSize])).rowCount ?? 0;
          total += chunk;
          if (chunk < deleteBatchSize) return total;
        }
      } catch (error) {
        throw databaseError(`delete old rows of ${table.name}`, error);
      }
    },
  };
}

export interface OutboxRetentionOptions extends OutboxCleanerOptions {
  /** Rows older than this go (polling: once sent). */
  maxAgeMs: number;
  /** Pause between the end of one run and the start of the next. */
  intervalMs: number;
  /** Every failed run; retention keeps going. */
  onError: (error: unknown) => void;
  /** After each run, with the number of rows deleted. */
  onRun?: (deleted: number) => void;
}

/** Runs the cleaner now and then every `intervalMs` (@evkit/idempotency's startRetention: no overlap, unref'd timer). */
export function startOutboxRetention(options: OutboxRetentionOptions): Retention {
  requireOptions(options);
  requireAge(options.maxAgeMs);
  requireInteger(options.intervalMs, 'intervalMs');
  requireFunction(options.onError, 'onError', 'retention failures must go somewhere');
  const { maxAgeMs, intervalMs, onError, onRun } = options;
  return startRetention({ store: createOutboxCleaner(options), maxAgeMs, intervalMs, onError, ...(onRun ? { onRun } : {}) });
}

export interface OutboxLagOptions {
  pool: Pool;
  /** Default `evkit_outbox`. */
  table?: string;
  relay: OutboxRelayKind;
  /** The connector's replication slot (`slot.name`); required for `debezium`. */
  slotName?: string;
}

export interface OutboxLag {
  /** Polling: age of the oldest row not yet sent, 0 when none is waiting. */
  oldestUnrelayedAgeMs?: number;
  /** Debezium: the slot's state; undefined when the slot does not exist. */
  slot?: {
    name: string;
    /** A connector is attached and streaming. */
    active: boolean;
    /** WAL written since the connector's last confirmed position: what the slot keeps on disk. */
    lagBytes: number;
  };
}

export interface OutboxLagMonitor {
  read(): Promise<OutboxLag>;
  /** Stops reporting the OpenTelemetry gauges. */
  close(): void;
}

/**
 * Relay lag as an API (`read`) and as OpenTelemetry gauges read at each collection:
 * `evkit.outbox.lag.time` (ms, polling) and `evkit.outbox.slot.lag` (bytes, Debezium), plus
 * `evkit.outbox.slot.active` (1 or 0). Register your MeterProvider before creating the monitor.
 */
export function createOutboxLagMonitor(options: OutboxLagOptions): OutboxLagMonitor {
  requireOptions(options);
  const { pool, relay, slotName } = options;
  requirePool(pool);
  requireRelay(relay);
  if (relay === 'debezium' && (typeof slotName !== 'string' || slotName.length === 0)) {
    throw new OutboxConfigError('slotName is required for the debezium relay (the connector\'s slot.name)');
  }
  const table = outboxTable(options.table);

  const read = async (): Promise<OutboxLag> => {
    try {
      if (relay === 'polling') {
        const { rows } = await pool.query<{ age_ms: number | null }>(
          `SELECT (extract(epoch FROM clock_timestamp() - created_at) * 1000)::float8 AS age_ms ` +
            `FROM ${table.qualified} WHERE sent_at IS NULL ORDER BY seq LIMIT 1`,
        );
        return { oldestUnrelayedAgeMs: Math.max(0, rows[0]?.age_ms ?? 0) };
      }
      const { rows } = await pool.query<{ active: boolean; lag_bytes: string | null }>(
        'SELECT active, pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::text AS lag_bytes ' +
          'FROM pg_replication_slots WHERE slot_name = $1',
        [slotName],
      );
      const slot = rows[0];
      return slot ? { slot: { name: slotName!, active: slot.active, lagBytes: Number(slot.lag_bytes ?? 0) } } : {};
    } catch (error) {
      throw databaseError(`read the relay lag of ${table.name}`, error);
    }
  };

  const meter = metrics.getMeter('@evkit/outbox');
  const ageGauge = meter.createObservableGauge('evkit.outbox.lag.time', { description: 'Age of the oldest outbox row not yet relayed', unit: 'ms' });
  const slotGauge = meter.createObservableGauge('evkit.outbox.slot.lag', { description: 'WAL the outbox connector has not confirmed yet', unit: 'By' });
  const activeGauge = meter.createObservableGauge('evkit.outbox.slot.active', { description: 'Whether a connector streams from the slot (1) or not (0)' });
  const gauges = [ageGauge, slotGauge, activeGauge];
  const observe: BatchObservableCallback = async (observer) => {
    let lag: OutboxLag;
    try {
      lag = await read();
    } catch {
      return; // no data point this collection: a gap in the series says the lag could not be read
    }
    if (lag.oldestUnrelayedAgeMs !== undefined) observer.observe(ageGauge, lag.oldestUnrelayedAgeMs, { 'evkit.outbox.table': table.name });
    if (lag.slot) {
      observer.observe(slotGauge, lag.slot.lagBytes, { 'evkit.outbox.slot': lag.slot.name });
      observer.observe(activeGauge, lag.slot.active ? 1 : 0, { 'evkit.outbox.slot': lag.slot.name });
    }
  };
  meter.addBatchObservableCallback(observe, gauges);
  return { read, close: () => meter.removeBatchObservableCallback(observe, gauges) };
}

function requireRelay(relay: unknown): void {
  if (relay !== 'polling' && relay !== 'debezium') throw new OutboxConfigError(`relay must be "polling" or "debezium", got ${JSON.stringify(relay)}`);
}

function requireAge(maxAgeMs: unknown): void {
  if (typeof maxAgeMs !== 'number' || !Number.isFinite(maxAgeMs) || maxAgeMs < 0) {
    throw new OutboxConfigError(`maxAgeMs must be a finite number of milliseconds >= 0, got ${String(maxAgeMs)}`);
  }
}
