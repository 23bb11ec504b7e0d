// Table names and advisory locks as every evkit package that writes DDL uses them (this store,
// @evkit/outbox): one rule for names that go into SQL text, one lock space.
import { createHash } from 'node:crypto';

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;
/** PostgreSQL's NAMEDATALEN - 1: longer names are truncated silently, so two could collide. */
export const MAX_IDENTIFIER_LENGTH = 63;
// The first key of evkit's two-key advisory locks ('evki'); the second is the purpose's hash.
const ADVISORY_LOCK_CLASS = 0x65766b69;

/** A validated table name and the quoted identifiers derived from it. */
export interface PostgresTableName {
  /** As configured: `name` or `schema.name`. */
  readonly name: string;
  /** Quoted, for SQL text: `"name"` or `"schema"."name"`. */
  readonly qualified: string;
  /** `"schema"."name<suffix>"` (schema when given), for objects named after the table: functions. */
  derived(suffix: string): string;
  /** `"name<suffix>"` unqualified, for indexes and triggers (they live in the table's schema). */
  local(suffix: string): string;
}

/**
 * The name goes into SQL text (DDL takes no parameters), so only plain lowercase identifiers pass,
 * optionally schema-qualified: no quoting tricks, no case-folding surprises between psql and
 * evkit. `longestSuffix` is the longest suffix of an object named after the table, which must fit
 * too. `fail` makes the caller's own typed error from the message.
 */
export function parsePostgresTableName(table: unknown, longestSuffix: string, fail: (message: string) => Error): PostgresTableName {
  const parts = typeof table === 'string' ? table.split('.') : [];
  if (parts.length < 1 || parts.length > 2 || !parts.every((part) => IDENTIFIER.test(part))) {
    throw fail(`table must be a lowercase SQL identifier ([a-z_][a-z0-9_]*), optionally schema-qualified, got ${JSON.stringify(table)}`);
  }
  const name = parts[parts.length - 1]!;
  if (parts[0]!.length > MAX_IDENTIFIER_LENGTH || name.length + longestSuffix.length > MAX_IDENTIFIER_LENGTH) {
    throw fail(
      `table name ${JSON.stringify(table)} is too long: at most ${MAX_IDENTIFIER_LENGTH - longestSuffix.length} characters, schema ${MAX_IDENTIFIER_LENGTH}`,
    );
  }
  const schema = parts.length === 2 ? `"${parts[0]}".` : '';
  return {
    name: table as string,
    qualified: `${schema}"${name}"`,
    derived: (suffix) => `${schema}"${name}${suffix}"`,
    local: (suffix) => `"${name}${suffix}"`,
  };
}

/**
 * `SELECT pg_advisory_xact_lock(...)` on the lock of `purpose` (e.g. `evkit outbox table x`),
 * held until the transaction ends. CREATE ... IF NOT EXISTS is not safe against itself: two
 * sessions can both find an object missing and one then fails on a catalog's unique index; DDL
 * run under this lock is. Literal keys (both integers evkit computes), so the statement can lead a
 * multi-statement simple query, which takes no parameters.
 */
export function advisoryXactLockSql(purpose: string): string {
  const key = createHash('sha256').update(purpose).digest().readInt32BE(0);
  return `SELECT pg_advisory_xact_lock(${ADVISORY_LOCK_CLASS}, ${key})`;
}
