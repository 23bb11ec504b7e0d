import { HEADER_COLUMNS, migrateOutbox, outboxMigrationSql, outboxTable } from './table';
import { relaySql } from './relay';
import { OutboxConfigError, OutboxDatabaseError } from './errors';

describe('outbox table', () => {
  it('accepts plain lowercase names, optionally schema-qualified, and quotes them', () => {
    expect(outboxTable().qualified).toBe('"evkit_outbox"');
    const t = outboxTable('app.order_outbox');
    expect(t.qualified).toBe('"app"."order_outbox"');
    expect(t.derived('_relay_route')).toBe('"app"."order_outbox_relay_route"');
    expect(t.local('_unsent_idx')).toBe('"order_outbox_unsent_idx"');
  });

  it.each([['Outbox'], ['a.b.c'], ['x"; drop table y; --'], [''], [42], ['a'.repeat(43)]])('refuses %j', (name) => {
    expect(() => outboxTable(name)).toThrow(OutboxConfigError);
  });

  it('creates the columns Debezium reads, with constraints that refuse malformed rows', () => {
    const sql = outboxMigrationSql({ table: 'app.outbox' });
    expect(sql).toContain('CREATE TABLE IF NOT EXISTS "app"."outbox" (');
    expect(sql).toMatch(/id\s+uuid PRIMARY KEY/);
    expect(sql).toMatch(/payload\s+bytea NOT NULL CHECK \(octet_length\(payload\) >= 5 AND get_byte\(payload, 0\) = 0\)/);
    expect(sql).toMatch(/specversion\s+text NOT NULL CHECK \(specversion = '1.0'\)/);
    for (const { column, optional } of HEADER_COLUMNS) {
      const quoted = column === 'time' ? '"time"' : column;
      expect(sql).toMatch(new RegExp(`\\n  ${quoted}\\s+${column === 'id' ? 'uuid' : 'text'}${optional ? ' CHECK' : ' (NOT NULL|PRIMARY)'}`));
    }
    expect(sql).toContain('CREATE INDEX IF NOT EXISTS "outbox_unsent_aggregate_idx" ON "app"."outbox" (aggregatetype, aggregateid, seq) WHERE sent_at IS NULL;');
    expect(sql).toContain('CREATE OR REPLACE TRIGGER "outbox_relay_route" BEFORE INSERT OR UPDATE ON "app"."outbox"');
  });

  it('derives relay_route from exactly the optional columns', () => {
    const sql = outboxMigrationSql();
    const optional = HEADER_COLUMNS.filter((c) => c.optional).map((c) => c.column);
    expect(optional).toEqual(['subject', 'dataschema', 'correlationid', 'causationid', 'traceparent', 'tracestate']);
    for (const column of optional) expect(sql).toContain(`CASE WHEN NEW.${column} IS NULL THEN '${column},' END`);
    expect(sql).toContain("NEW.relay_route := NEW.topic || '|,' || concat(");
  });

  it('runs the migration as one statement holding an advisory lock, typed on failure', async () => {
    const queries: string[] = [];
    await migrateOutbox({ query: async (text: string) => void queries.push(text) } as never, { table: 'outbox_x' });
    expect(queries).toHaveLength(1);
    expect(queries[0]).toMatch(/^SELECT pg_advisory_xact_lock\(1702259561, -?\d+\);\n-- Transactional outbox/);
    const failing = { query: () => Promise.reject(Object.assign(new Error('permission denied'), { severity: 'ERROR', code: '42501' })) };
    await expect(migrateOutbox(failing as never)).rejects.toMatchObject({ code: 'EVKIT_OUTBOX_DATABASE_FAILED', retriable: false });
    await expect(migrateOutbox(failing as never)).rejects.toBeInstanceOf(OutboxDatabaseError);
  });

  it('claims aggregates by their oldest unsent row, skipping heads another relay holds', () => {
    const sql = relaySql(outboxTable('outbox'));
    expect(sql.claimAggregates).toContain('FOR UPDATE OF head SKIP LOCKED');
    expect(sql.claimAggregates).toContain('NOT EXISTS (SELECT 1 FROM "outbox" AS older WHERE older.sent_at IS NULL');
    expect(sql.rowsOf).toMatch(/ORDER BY seq LIMIT \$3 FOR UPDATE$/);
    expect(sql.markSent).toBe('UPDATE "outbox" SET sent_at = now() WHERE id = ANY($1::uuid[])');
  });
});
