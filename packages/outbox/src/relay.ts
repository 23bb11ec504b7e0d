import type { Pool, PoolClient } from 'pg';
import type { RecordHeaders } from '@evkit/envelope';
import type { Logger } from '@evkit/telemetry';
import { kafkaClientProblem, loadTransport, type KafkaClientName, type KafkaPublisherOptions, type OutgoingRecord, type PublisherTransport } from '@evkit/transport';
import { databaseError } from './database';
import { OutboxConfigError } from './errors';
import { startWakeListener, wakeChannel, type WakeListener } from './notify';
import { HEADER_COLUMNS, outboxTable, type OutboxTable } from './table';
import { requireFunction, requireInteger, requireOptions, requirePool } from './validation';

export interface PollingRelayOptions<C extends KafkaClientName = KafkaClientName> {
  /** The database of the outbox. The relay never ends it; each batch holds one client. */
  pool: Pool;
  /** Default `evkit_outbox`. */
  table?: string;
  /** A publisher of your own; the relay never disconnects it. */
  transport?: PublisherTransport;
  /** The Kafka client of the publisher made from `kafka`: its package must be installed. Default `'kafkajs'`. */
  client?: C;
  /** The client's options for a publisher the relay creates (idempotent, acks=all) and closes on stop. */
  kafka?: KafkaPublisherOptions<C>;
  /** Where the client's own log lines go (KafkaJS's), for the publisher the relay creates. Default: JSON lines on stderr, warnings and errors only. */
  logger?: Logger;
  /** Rows per batch (one transaction, one send). Default 100. */
  batchSize?: number;
  /**
   * The longest pause after a batch that found fewer than batchSize rows (a fallback: with
   * `listen` the writer's notification ends the pause at once), and the pause after a failure.
   * Default 500 ms.
   */
  intervalMs?: number;
  /**
   * Wake on the writer's `NOTIFY` (PostgreSQL LISTEN/NOTIFY, delivered when the writing
   * transaction commits): a committed event is relayed within a round trip, not an interval.
   * Holds one pool connection for `LISTEN` while running, connecting again when it is lost (and
   * then running one batch, so no wake-up is lost). Default true; false for a connection pooler
   * that cannot `LISTEN` (PgBouncer in transaction mode): the relay then polls every intervalMs.
   */
  listen?: boolean;
  /** Every failed batch: a TransportSendError from the publisher, an OutboxDatabaseError. The relay keeps going. */
  onError: (error: unknown) => void;
  /** After each batch that relayed rows, with their number. */
  onRelayed?: (count: number) => void;
}

export interface PollingRelay {
  /** Starts relaying in the background; a no-op when running. */
  start(): void;
  /** Stops after the batch in flight; closes the publisher the relay created. */
  stop(): Promise<void>;
  /** One batch, now: claims, publishes and marks up to batchSize rows; resolves with how many. */
  relayBatch(): Promise<number>;
}

export function createPollingRelay<C extends KafkaClientName = 'kafkajs'>(options: PollingRelayOptions<C>): PollingRelay {
  requireOptions(options);
  const { pool, batchSize = 100, intervalMs = 500, listen = true, onError, onRelayed } = options;
  requirePool(pool);
  if ((options.transport === undefined) === (options.kafka === undefined)) throw new OutboxConfigError('give exactly one of transport and kafka');
  const clientProblem = kafkaClientProblem(options.client);
  if (clientProblem !== undefined) throw new OutboxConfigError(clientProblem);
  requireInteger(batchSize, 'batchSize', 10_000);
  requireInteger(intervalMs, 'intervalMs');
  requireFunction(onError, 'onError', 'relay failures must go somewhere');
  if (onRelayed !== undefined) requireFunction(onRelayed, 'onRelayed', 'or left out');
  if (typeof listen !== 'boolean') throw new OutboxConfigError(`listen must be a boolean, got ${String(listen)}`);
  const poolMax = (pool as { options?: { max?: unknown } }).options?.max;
  if (listen && typeof poolMax === 'number' && poolMax < 2) {
    throw new OutboxConfigError(`the pool's max is ${poolMax}: listening holds one connection and each batch needs another; give a pool of 2 or more, or listen: false`);
  }
  const table = outboxTable(options.table);
  const sql = relaySql(table);
  const transport = options.transport ?? loadTransport(options.client ?? 'kafkajs').createPublisher(options.kafka!, options.logger);
  const ownsTransport = options.transport === undefined;

  const relayBatch = async (): Promise<number> => {
    let client: PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw databaseError(`connect to relay ${table.name}`, error);
    }
    let broken: Error | undefined;
    try {
      const rows = await database(`claim rows of ${table.name}`, async () => {
        await client.query('BEGIN');
        const heads = (await client.query<{ aggregatetype: string; aggregateid: string }>(sql.claimAggregates, [batchSize])).rows;
        if (heads.length === 0) return [];
        const types = heads.map((h) => h.aggregatetype);
        const ids = heads.map((h) => h.aggregateid);
        return (await client.query<OutboxRow>(sql.rowsOf, [types, ids, batchSize])).rows;
      });
      if (rows.length > 0) {
        // Rows are in seq order and every aggregate's rows go to one partition: the publisher
        // keeps their order. The bytes are sent as stored: no decoding, no encoding.
        await transport.send(rows.map(recordOf));
        await database(`mark ${rows.length} rows of ${table.name} sent`, () => client.query(sql.markSent, [rows.map((r) => r.id)]));
      }
      await database(`commit a relay batch of ${table.name}`, () => client.query('COMMIT'));
      if (rows.length > 0) onRelayed?.(rows.length);
      return rows.length;
    } catch (error) {
      // Not marked: the rows stay unsent and go again (a duplicate if the broker had them). A
      // client whose ROLLBACK fails is destroyed rather than pooled.
      broken = await client.query('ROLLBACK').then(
        () => undefined,
        (failure: unknown) => (failure instanceof Error ? failure : new Error(String(failure))),
      );
      throw error;
    } finally {
      client.release(broken);
    }
  };

  let running = false;
  let loop: Promise<void> | undefined;
  let listener: WakeListener | undefined;
  // Set by a wake-up (a notification, a reconnected listener); cleared when a batch starts, so a
  // notification that comes during a batch (after its snapshot) runs the next one at once.
  let pending = false;
  let interrupt: (() => void) | undefined;
  let wakeable = false;

  const wakeUp = () => {
    pending = true;
    if (wakeable) interrupt?.();
  };

  /** Sleeps `intervalMs`; a wake-up ends it early unless it follows a failure. Stop always does. */
  const pause = (afterFailure: boolean) =>
    new Promise<void>((resolve) => {
      if (!afterFailure && pending) {
        resolve();
        return;
      }
      const timer = setTimeout(done, intervalMs);
      wakeable = !afterFailure;
      interrupt = done;
      function done() {
        clearTimeout(timer);
        interrupt = undefined;
        wakeable = false;
        resolve();
      }
    });

  const run = async () => {
    while (running) {
      pending = false;
      let relayed = 0;
      let failed = false;
      try {
        relayed = await relayBatch();
      } catch (error) {
        failed = true;
        // onError must not throw; if it does, the loop ends and the process hears of it as an
        // unhandled rejection rather than the relay losing both errors.
        onError(error);
      }
      // A full batch means more are waiting: go on at once.
      if (running && (failed || relayed < batchSize)) await pause(failed);
    }
  };

  return {
    start() {
      if (running) return;
      running = true;
      if (listen) {
        // A lost listener tries again soon (it is the fast path), then backs off to 30 s.
        const retryMs = Math.min(intervalMs, 1000);
        listener = startWakeListener({ pool, channel: wakeChannel(table), retryMs, onWake: wakeUp, onError: (error) => onError(error) });
      }
      loop = run();
    },
    async stop() {
      running = false;
      interrupt?.();
      await listener?.stop();
      listener = undefined;
      await loop;
      loop = undefined;
      if (ownsTransport) await transport.disconnect();
    },
    relayBatch,
  };
}

interface OutboxRow {
  id: string;
  topic: string;
  aggregateid: string;
  payload: Buffer;
  [column: string]: string | Buffer | null;
}

/** The record exactly as a direct publish sends it: the stored headers in the envelope's order. */
function recordOf(row: OutboxRow): OutgoingRecord {
  const headers: RecordHeaders = {};
  for (const { header, column } of HEADER_COLUMNS) {
    const value = row[column];
    if (typeof value === 'string') headers[header] = value;
  }
  return { topic: row.topic, key: row.aggregateid, value: row.payload, headers };
}

async function database<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw databaseError(what, error);
  }
}

interface RelaySql {
  claimAggregates: string;
  rowsOf: string;
  markSent: string;
}

/**
 * Per-aggregate order with several relays: a relay owns an aggregate by locking the aggregate's
 * oldest unsent row (its head), skipping heads another relay holds. Taking any later row of an
 * aggregate without its head could publish it before the head, so rows are taken only for owned
 * aggregates. The head lock is held until the batch commits; a relay that finds the head gone
 * (sent and committed meanwhile) re-checks it under the lock and skips the aggregate.
 */
export function relaySql(table: OutboxTable): RelaySql {
  const t = table.qualified;
  const columns = ['id', 'topic', 'payload', ...new Set(HEADER_COLUMNS.map((c) => c.column))].map((c) => `"${c}"`).join(', ');
  return {
    claimAggregates:
      `SELECT head.aggregatetype, head.aggregateid FROM ${t} AS head ` +
      'WHERE head.sent_at IS NULL AND NOT EXISTS (' +
      `SELECT 1 FROM ${t} AS older WHERE older.sent_at IS NULL AND older.aggregatetype = head.aggregatetype ` +
      'AND older.aggregateid = head.aggregateid AND older.seq < head.seq) ' +
      'ORDER BY head.seq LIMIT $1 FOR UPDATE OF head SKIP LOCKED',
    rowsOf:
      `SELECT ${columns} FROM ${t} WHERE sent_at IS NULL ` +
      'AND (aggregatetype, aggregateid) IN (SELECT * FROM unnest($1::text[], $2::text[])) ' +
      'ORDER BY seq LIMIT $3 FOR UPDATE',
    markSent: `UPDATE ${t} SET sent_at = now() WHERE id = ANY($1::uuid[])`,
  };
}
