import type { ClientBase, Pool } from 'pg';
import { advisoryXactLockSql, parsePostgresTableName, type PostgresTableName } from '@evkit/idempotency';
import { databaseError } from './database';
import { OutboxConfigError } from './errors';

export const DEFAULT_OUTBOX_TABLE = 'evkit_outbox';

/** Something that runs SQL: a pg Pool, Client or PoolClient. */
export type Queryable = Pool | ClientBase;

/**
 * Each CloudEvents header of a binary-mode record and the column that holds it, in the order
 * @evkit/envelope writes the headers (the connector config places them in the same order). The
 * record key is `aggregateid`, which is also `ce_partitionkey`.
 */
export const HEADER_COLUMNS = [
  { header: 'ce_id', column: 'id', optional: false },
  { header: 'ce_source', column: 'source', optional: false },
  { header: 'ce_specversion', column: 'specversion', optional: false },
  { header: 'ce_type', column: 'type', optional: false },
  { header: 'ce_subject', column: 'subject', optional: true },
  { header: 'ce_time', column: 'time', optional: false },
  { header: 'content-type', column: 'datacontenttype', optional: false },
  { header: 'ce_dataschema', column: 'dataschema', optional: true },
  { header: 'ce_correlationid', column: 'correlationid', optional: true },
  { header: 'ce_causationid', column: 'causationid', optional: true },
  { header: 'ce_partitionkey', column: 'aggregateid', optional: false },
  { header: 'ce_traceparent', column: 'traceparent', optional: true },
  { header: 'ce_tracestate', column: 'tracestate', optional: true },
] as const;

export type HeaderColumn = (typeof HEADER_COLUMNS)[number];

const LONGEST_SUFFIX = '_unsent_aggregate_idx';

/** A validated table name and the quoted identifiers derived from it. */
export type OutboxTable = PostgresTableName;

/** The outbox table's name, checked by the rule every evkit table name follows. */
export function outboxTable(table: unknown = DEFAULT_OUTBOX_TABLE): OutboxTable {
  return parsePostgresTableName(table, LONGEST_SUFFIX, (message) => new OutboxConfigError(message));
}

const OPTIONAL_COLUMNS = HEADER_COLUMNS.filter((c) => c.optional).map((c) => c.column);

/**
 * The DDL of an outbox table (idempotent: IF NOT EXISTS / OR REPLACE), as a migration tool takes
 * it. PostgreSQL 14 or later (CREATE OR REPLACE TRIGGER).
 */
export function outboxMigrationSql(options: { table?: string } = {}): string {
  const t = outboxTable(options.table);
  const optional = OPTIONAL_COLUMNS.map((column) => `  ${column.padEnd(18)} text CHECK (${column} <> ''),`).join('\n');
  const absent = OPTIONAL_COLUMNS.map((column) => `CASE WHEN NEW.${column} IS NULL THEN '${column},' END`).join(',\n    ');
  return `-- Transactional outbox (@evkit/outbox). One row per event, written in the business transaction.
-- Debezium's Outbox Event Router reads it as it is; the polling relay reads and marks it.
CREATE TABLE IF NOT EXISTS ${t.qualified} (
  id                 uuid PRIMARY KEY,                 -- the event id (ce_id): evkit ids are UUIDv7
  seq                bigint GENERATED ALWAYS AS IDENTITY, -- insertion order, per aggregate the relay order
  aggregatetype      text NOT NULL CHECK (aggregatetype <> ''),
  aggregateid        text NOT NULL CHECK (aggregateid <> ''), -- the record key and ce_partitionkey
  topic              text NOT NULL CHECK (topic ~ '^[A-Za-z0-9._-]{1,249}$'),
  relay_route        text NOT NULL,                    -- set by the trigger below
  type               text NOT NULL CHECK (type <> ''),
  payload            bytea NOT NULL CHECK (octet_length(payload) >= 5 AND get_byte(payload, 0) = 0), -- Confluent wire format
  source             text NOT NULL CHECK (source <> ''),
  specversion        text NOT NULL CHECK (specversion = '1.0'),
  "time"             text NOT NULL CHECK ("time" <> ''), -- as the event carries it: the header bytes must not change
  datacontenttype    text NOT NULL CHECK (datacontenttype <> ''), -- the content-type header
${optional}
  tracingspancontext text,                             -- java.util.Properties text, for Debezium's tracing
  created_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
  sent_at            timestamptz                       -- set by the polling relay once the broker acknowledged
);
CREATE INDEX IF NOT EXISTS ${t.local('_unsent_idx')} ON ${t.qualified} (seq) WHERE sent_at IS NULL;
CREATE INDEX IF NOT EXISTS ${t.local(LONGEST_SUFFIX)} ON ${t.qualified} (aggregatetype, aggregateid, seq) WHERE sent_at IS NULL;
CREATE INDEX IF NOT EXISTS ${t.local('_created_at_idx')} ON ${t.qualified} (created_at);
-- relay_route is '<topic>|,<absent optional attributes, each followed by a comma>'. The connector
-- routes by it, drops the header of each absent attribute (Kafka Connect has no way to drop a
-- header by its null value, and a null-valued ce_ header is not what a direct publish sends),
-- then cuts the suffix off the topic. A trigger rather than a generated column: PostgreSQL before
-- 18 does not replicate generated columns, and rows inserted by hand get it right too.
CREATE OR REPLACE FUNCTION ${t.derived('_relay_route')}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.relay_route := NEW.topic || '|,' || concat(
    ${absent});
  RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER ${t.local('_relay_route')} BEFORE INSERT OR UPDATE ON ${t.qualified}
  FOR EACH ROW EXECUTE FUNCTION ${t.derived('_relay_route')}();
`;
}

/**
 * Creates the outbox table, its indexes and trigger when missing, in one transaction that holds
 * an advisory lock (CREATE ... IF NOT EXISTS is not safe against itself). Takes a pool or a
 * client; on a client inside a transaction it joins that transaction.
 */
export async function migrateOutbox(db: Queryable, options: { table?: string } = {}): Promise<void> {
  const sql = outboxMigrationSql(options);
  const lock = advisoryXactLockSql(`evkit outbox table ${outboxTable(options.table).name}`);
  try {
    // One simple-protocol query: PostgreSQL runs its statements as one transaction.
    await db.query(`${lock};\n${sql}`);
  } catch (error) {
    throw databaseError(`create outbox table ${options.table ?? DEFAULT_OUTBOX_TABLE}`, error);
  }
}
