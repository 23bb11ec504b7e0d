import { advisoryXactLockSql, MAX_IDENTIFIER_LENGTH, parsePostgresTableName } from './postgres-sql';

class NameError extends Error {}
const fail = (message: string) => new NameError(message);

describe('parsePostgresTableName', () => {
  it('quotes a plain name, and a schema-qualified one, for SQL text and derived objects', () => {
    const plain = parsePostgresTableName('order', '_idx', fail);
    expect(plain).toMatchObject({ name: 'order', qualified: '"order"' });
    expect(plain.derived('_fn')).toBe('"order_fn"');
    expect(plain.local('_idx')).toBe('"order_idx"');

    const qualified = parsePostgresTableName('app.events', '_idx', fail);
    expect(qualified).toMatchObject({ name: 'app.events', qualified: '"app"."events"' });
    expect(qualified.derived('_fn')).toBe('"app"."events_fn"');
    expect(qualified.local('_idx')).toBe('"events_idx"');
  });

  it.each([[''], ['Events'], ['events;drop table x'], ['a.b.c'], ['.events'], ['events.'], ['ev"ents'], ['1events'], ['évents'], [' events'], [undefined], [42]])(
    'refuses %j with the caller\'s error',
    (table) => {
      expect(() => parsePostgresTableName(table, '_idx', fail)).toThrow(NameError);
      expect(() => parsePostgresTableName(table, '_idx', fail)).toThrow(/lowercase SQL identifier/);
    },
  );

  it('leaves room for the longest suffix, and bounds the schema', () => {
    const room = MAX_IDENTIFIER_LENGTH - '_suffix'.length;
    expect(parsePostgresTableName('a'.repeat(room), '_suffix', fail).name).toHaveLength(room);
    expect(() => parsePostgresTableName('a'.repeat(room + 1), '_suffix', fail)).toThrow(/too long: at most 56 characters/);
    expect(parsePostgresTableName(`${'s'.repeat(MAX_IDENTIFIER_LENGTH)}.t`, '_suffix', fail).qualified).toBe(`"${'s'.repeat(63)}"."t"`);
    expect(() => parsePostgresTableName(`${'s'.repeat(MAX_IDENTIFIER_LENGTH + 1)}.t`, '_suffix', fail)).toThrow(NameError);
  });
});

describe('advisoryXactLockSql', () => {
  it("locks evkit's class and a key of the purpose, as literal integers", () => {
    const sql = advisoryXactLockSql('evkit outbox table evkit_outbox');
    expect(sql).toMatch(/^SELECT pg_advisory_xact_lock\(1702259561, -?\d+\)$/);
    const key = Number(/, (-?\d+)\)$/.exec(sql)![1]);
    expect(Number.isInteger(key) && key >= -(2 ** 31) && key < 2 ** 31).toBe(true);
  });

  it('gives one purpose one key, and different purposes different keys', () => {
    expect(advisoryXactLockSql('evkit idempotency table a')).toBe(advisoryXactLockSql('evkit idempotency table a'));
    expect(advisoryXactLockSql('evkit idempotency table a')).not.toBe(advisoryXactLockSql('evkit idempotency table b'));
    expect(advisoryXactLockSql('evkit idempotency table a')).not.toBe(advisoryXactLockSql('evkit outbox table a'));
  });
});
