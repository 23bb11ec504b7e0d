import { COMPATIBILITY_CASES, type CompatibilityCase, type ViolationKey } from '../integration/compatibility-cases';
import {
  checkCompatibility,
  COMPATIBILITY_LEVELS,
  isCompatibilityLevel,
  type CompatibilityLevel,
  type CompatibilityResult,
  type SchemaVersion,
} from './compatibility';
import { CodecConfigError, InvalidSchemaError } from './errors';

const versionsOf = (schemas: readonly object[]): SchemaVersion[] => schemas.map((schema, i) => ({ version: i + 1, schema }));

const keysOf = (result: CompatibilityResult): ViolationKey[] => result.violations.map((v) => [v.version, v.direction, v.path]);

/** The part of FULL_TRANSITIVE's violations a level reports: its directions, against the latest or all versions. */
function inScope(level: CompatibilityLevel, latest: number): (key: ViolationKey) => boolean {
  return ([version, direction]) =>
    level !== 'NONE' &&
    (level.endsWith('_TRANSITIVE') || version === latest) &&
    (level.startsWith('FULL') || level.toLowerCase().startsWith(direction));
}

describe('checkCompatibility: evolution cases', () => {
  it.each(COMPATIBILITY_CASES.map((c) => [c.name, c] as const))('%s', (_, testCase: CompatibilityCase) => {
    const existing = versionsOf(testCase.existing);
    const actual = COMPATIBILITY_LEVELS.map((level) => {
      const result = checkCompatibility({ candidate: testCase.candidate, existing, level });
      return { level, compatible: result.compatible, violations: keysOf(result) };
    });
    const expected = COMPATIBILITY_LEVELS.map((level) => ({
      level,
      compatible: level === 'NONE' || testCase.accepts.includes(level),
      violations: testCase.violations.filter(inScope(level, existing.length)),
    }));
    expect(actual).toEqual(expected);
  });
});

describe('checkCompatibility: reasons', () => {
  const order = (fields: object[], name = 'OrderPlaced') => ({ type: 'record', name, namespace: 'dev.evkit.t', fields });
  const reasons = (existing: object, candidate: object, level: CompatibilityLevel = 'FULL') =>
    checkCompatibility({ candidate, existing: [{ version: 2, schema: existing }], level }).violations.map(
      (v) => `${v.direction} ${v.path}: ${v.reason}`,
    );

  it('names a missing field without a default and the version lacking it', () => {
    expect(reasons(order([]), order([{ name: 'email', type: 'string' }]))).toEqual([
      "backward /fields/email: field 'email' has no default and is missing from the writer schema (v2)",
    ]);
    expect(reasons(order([{ name: 'email', type: 'string' }]), order([]))).toEqual([
      "forward /fields/email: field 'email' has no default and is missing from the writer schema (the candidate)",
    ]);
  });

  it('names each enum symbol the reader does not know, and who writes it', () => {
    const status = (symbols: string[]) => order([{ name: 'status', type: { type: 'enum', name: 'Status', symbols } }]);
    expect(reasons(status(['NEW', 'PAID', 'CANCELLED', 'REFUNDED']), status(['NEW', 'PAID']))).toEqual([
      "backward /fields/status: enum symbol 'CANCELLED' written by v2 is unknown to the reader and the reader enum has no default",
      "backward /fields/status: enum symbol 'REFUNDED' written by v2 is unknown to the reader and the reader enum has no default",
    ]);
    expect(reasons(status(['NEW']), status(['NEW', 'PAID']))).toEqual([
      "forward /fields/status: enum symbol 'PAID' written by the candidate is unknown to the reader and the reader enum has no default",
    ]);
  });

  it('tells a type change from the existing version to the candidate, whichever side reads', () => {
    expect(reasons(order([{ name: 'qty', type: 'string' }]), order([{ name: 'qty', type: 'int' }]))).toEqual([
      'backward /fields/qty: type changed from string to int and int cannot read string',
      'forward /fields/qty: type changed from string to int and string cannot read int',
    ]);
    expect(reasons(order([{ name: 'qty', type: 'int' }]), order([{ name: 'qty', type: 'long' }]))).toEqual([
      'forward /fields/qty: type changed from int to long and int cannot read long',
    ]);
  });

  it('names the union branch nobody can read', () => {
    const ref = (type: unknown) => order([{ name: 'ref', type }]);
    expect(reasons(ref(['null', 'string', 'int']), ref(['null', 'string']), 'BACKWARD')).toEqual([
      'backward /fields/ref: type changed from union [null, string, int] to union [null, string] and no branch of union [null, string] can read int',
    ]);
    expect(reasons(ref(['null', 'string']), ref('string'), 'BACKWARD')).toEqual([
      'backward /fields/ref: type changed from union [null, string] to string and string cannot read null',
    ]);
  });

  it('names a renamed record, a resized fixed and an item type change', () => {
    expect(reasons(order([]), order([], 'OrderCreated'), 'BACKWARD')).toEqual([
      'backward /: record name changed from dev.evkit.t.OrderPlaced to dev.evkit.t.OrderCreated and the reader has no alias dev.evkit.t.OrderPlaced',
    ]);
    const hash = (size: number) => order([{ name: 'hash', type: { type: 'fixed', name: 'Hash', size } }]);
    expect(reasons(hash(16), hash(32), 'BACKWARD')).toEqual(['backward /fields/hash: fixed dev.evkit.t.Hash size changed from 16 to 32']);
    const tags = (items: string) => order([{ name: 'tags', type: { type: 'array', items } }]);
    expect(reasons(tags('string'), tags('int'), 'BACKWARD')).toEqual([
      'backward /fields/tags/items: type changed from string to int and int cannot read string',
    ]);
  });

  it('refuses a reader field whose aliases match several writer fields (Avro Java throws there)', () => {
    const existing = order([
      { name: 'email', type: 'string' },
      { name: 'mail', type: 'string' },
    ]);
    const candidate = order([{ name: 'email', type: 'string', aliases: ['mail'] }]);
    expect(reasons(existing, candidate, 'BACKWARD')).toEqual([
      "backward /fields/email: field 'email' matches several writer fields through its aliases (email, mail)",
    ]);
  });
});

describe('checkCompatibility: versions and levels', () => {
  const order = (fields: object[]) => JSON.stringify({ type: 'record', name: 'OrderPlaced', fields: [{ name: 'id', type: 'string' }, ...fields] });
  const v1 = order([]);
  const v2 = order([{ name: 'note', type: 'string', default: '' }]);
  const requiresNote = order([{ name: 'note', type: 'string' }]);

  it('takes the highest version as the latest, whatever the order given', () => {
    const existing = [
      { version: 7, schema: v2 },
      { version: 3, schema: v1 },
    ];
    expect(checkCompatibility({ candidate: requiresNote, existing, level: 'BACKWARD' })).toEqual({ compatible: true, violations: [] });
    const transitive = checkCompatibility({ candidate: requiresNote, existing, level: 'BACKWARD_TRANSITIVE' });
    expect(transitive.violations.map((v) => v.version)).toEqual([3]);
  });

  it('reports violations in version order, backward before forward', () => {
    const existing = [
      { version: 2, schema: order([{ name: 'a', type: 'string' }]) },
      { version: 1, schema: order([{ name: 'a', type: 'string' }]) },
    ];
    const result = checkCompatibility({ candidate: order([{ name: 'a', type: 'int' }]), existing, level: 'FULL_TRANSITIVE' });
    expect(result.violations.map((v) => `${v.version} ${v.direction}`)).toEqual(['1 backward', '1 forward', '2 backward', '2 forward']);
  });

  it('accepts anything at every level when there is no version yet', () => {
    for (const level of COMPATIBILITY_LEVELS) {
      expect(checkCompatibility({ candidate: requiresNote, existing: [], level })).toEqual({ compatible: true, violations: [] });
    }
  });

  it('reads schemas given as JSON text or as parsed JSON alike', () => {
    const asText = checkCompatibility({ candidate: requiresNote, existing: [{ version: 1, schema: v1 }], level: 'BACKWARD' });
    const parsed = checkCompatibility({
      candidate: JSON.parse(requiresNote) as object,
      existing: [{ version: 1, schema: JSON.parse(v1) as object }],
      level: 'BACKWARD',
    });
    expect(parsed).toEqual(asText);
    expect(asText.compatible).toBe(false);
  });

  it('recognises the seven levels and nothing else', () => {
    expect(COMPATIBILITY_LEVELS.filter(isCompatibilityLevel)).toHaveLength(7);
    expect(['backward', 'FULL ', 'FORWARD_TRANSITIVE_', undefined, 1].filter(isCompatibilityLevel)).toEqual([]);
  });

  it('refuses an unknown level with CodecConfigError', () => {
    const attempt = () => checkCompatibility({ candidate: v1, existing: [], level: 'backward' as CompatibilityLevel });
    expect(attempt).toThrow(CodecConfigError);
    expect(attempt).toThrow(/level must be one of BACKWARD, .*got "backward"/);
  });
});

describe('checkCompatibility: invalid schemas', () => {
  const valid = JSON.stringify({ type: 'record', name: 'OrderPlaced', fields: [{ name: 'id', type: 'string' }] });

  const withField = (field: object) => ({ type: 'record', name: 'R', fields: [field] });

  it.each([
    ['text that is not JSON', '{"type": "record",', /the candidate is not valid JSON/],
    ['a bare type name without JSON quotes', 'string', /the candidate is not valid JSON/],
    ['an unknown type', withField({ name: 'a', type: 'Strng' }), /the candidate is not a valid Avro schema: undefined type name: Strng/],
    ['a default of the wrong type', withField({ name: 'a', type: 'int', default: 'x' }), /incompatible field default "x"/],
    ['an enum default that is not a symbol', { type: 'enum', name: 'E', symbols: ['A'], default: 'B' }, /invalid "E" default: "B"/],
    ['a record without fields', { type: 'record', name: 'R' }, /the candidate is not a valid Avro schema/],
  ] as const)('throws InvalidSchemaError for %s', (_, candidate, message) => {
    const attempt = () => checkCompatibility({ candidate, existing: [{ version: 1, schema: valid }], level: 'NONE' });
    expect(attempt).toThrow(InvalidSchemaError);
    expect(attempt).toThrow(message);
  });

  it('names the existing version that is invalid, even under NONE', () => {
    const existing = [
      { version: 1, schema: valid },
      { version: 2, schema: '{"type": "fixed", "name": "F"}' },
    ];
    const attempt = () => checkCompatibility({ candidate: valid, existing, level: 'NONE' });
    expect(attempt).toThrow(InvalidSchemaError);
    expect(attempt).toThrow(/^v2 is not a valid Avro schema: invalid F size/);
  });
});
