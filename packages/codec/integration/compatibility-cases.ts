import type { CompatibilityLevel, CompatibilityViolation } from '../src/compatibility';

/**
 * Schema evolutions with the verdicts a schema registry gives them. The unit test holds the
 * offline checker to these verdicts; the integration test holds it to what the real registry
 * answers for the same cases. The table lives here, outside src/, so that it is not built into
 * the published package.
 */
export interface CompatibilityCase {
  readonly name: string;
  /** v1, v2, ... in registration order. */
  readonly existing: readonly object[];
  readonly candidate: object;
  /** The levels that accept the candidate; NONE accepts everything and is left out. */
  readonly accepts: readonly CompatibilityLevel[];
  /** What FULL_TRANSITIVE reports, in order: the other levels report the part in their scope. */
  readonly violations: readonly ViolationKey[];
}

export type ViolationKey = readonly [version: number, direction: CompatibilityViolation['direction'], path: string];

const NAMESPACE = 'dev.evkit.compat';

const ALL: readonly CompatibilityLevel[] = ['BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE'];
const BACKWARD_ONLY: readonly CompatibilityLevel[] = ['BACKWARD', 'BACKWARD_TRANSITIVE'];
const FORWARD_ONLY: readonly CompatibilityLevel[] = ['FORWARD', 'FORWARD_TRANSITIVE'];
const NOTHING: readonly CompatibilityLevel[] = [];

function order(fields: readonly object[], overrides: object = {}): object {
  return { type: 'record', name: 'OrderPlaced', namespace: NAMESPACE, fields: [{ name: 'id', type: 'string' }, ...fields], ...overrides };
}

function field(name: string, type: unknown, extra: object = {}): object {
  return { name, type, ...extra };
}

/** An order with one more field, `name`, of type `type`: most cases change just that field. */
function withField(name: string, type: unknown, extra: object = {}): object {
  return order([field(name, type, extra)]);
}

function status(symbols: readonly string[], extra: object = {}): object {
  return { type: 'enum', name: 'OrderStatus', symbols, ...extra };
}

function customer(fields: readonly object[]): object {
  return { type: 'record', name: 'Customer', fields: [{ name: 'id', type: 'string' }, ...fields] };
}

/** A linked list: the walk must end on recursive types. */
function lineItem(valueType: string): object {
  return {
    type: 'record',
    name: 'LineItem',
    namespace: NAMESPACE,
    fields: [field('value', valueType), field('next', ['null', 'LineItem'], { default: null })],
  };
}

const nullable = (type: unknown) => ['null', type];

/** v1 and the candidate each fail to read the other at `path`. */
const bothWays = (path: string): ViolationKey[] => [
  [1, 'backward', path],
  [1, 'forward', path],
];

export const COMPATIBILITY_CASES: readonly CompatibilityCase[] = [
  // Fields added and removed.
  {
    name: 'adds a field with a default',
    existing: [order([])],
    candidate: withField('note', 'string', { default: '' }),
    accepts: ALL,
    violations: [],
  },
  {
    name: 'adds a field without a default',
    existing: [order([])],
    candidate: withField('note', 'string'),
    accepts: FORWARD_ONLY,
    violations: [[1, 'backward', '/fields/note']],
  },
  {
    name: 'adds an optional field (null union, default null)',
    existing: [order([])],
    candidate: withField('note', nullable('string'), { default: null }),
    accepts: ALL,
    violations: [],
  },
  {
    name: 'removes a field that has a default',
    existing: [withField('note', 'string', { default: '' })],
    candidate: order([]),
    accepts: ALL,
    violations: [],
  },
  {
    name: 'removes a field without a default',
    existing: [withField('note', 'string')],
    candidate: order([]),
    accepts: BACKWARD_ONLY,
    violations: [[1, 'forward', '/fields/note']],
  },
  {
    name: 'reorders fields',
    existing: [order([field('a', 'int'), field('b', 'int')])],
    candidate: order([field('b', 'int'), field('a', 'int')]),
    accepts: ALL,
    violations: [],
  },
  // Promotions: int -> long -> float -> double and string <-> bytes, readable one way only.
  ...(
    [
      ['int', 'long'],
      ['long', 'float'],
      ['float', 'double'],
      ['int', 'double'],
    ] as const
  ).map(([from, to]) => ({
    name: `promotes ${from} to ${to}`,
    existing: [withField('qty', from)],
    candidate: withField('qty', to),
    accepts: BACKWARD_ONLY,
    violations: [[1, 'forward', '/fields/qty']] as const,
  })),
  ...(
    [
      ['long', 'int'],
      ['double', 'float'],
    ] as const
  ).map(([from, to]) => ({
    name: `narrows ${from} to ${to}`,
    existing: [withField('qty', from)],
    candidate: withField('qty', to),
    accepts: FORWARD_ONLY,
    violations: [[1, 'backward', '/fields/qty']] as const,
  })),
  {
    name: 'changes string to bytes',
    existing: [withField('payload', 'string')],
    candidate: withField('payload', 'bytes'),
    accepts: ALL,
    violations: [],
  },
  {
    name: 'changes bytes to string',
    existing: [withField('payload', 'bytes')],
    candidate: withField('payload', 'string'),
    accepts: ALL,
    violations: [],
  },
  {
    name: 'changes string to int',
    existing: [withField('qty', 'string')],
    candidate: withField('qty', 'int'),
    accepts: NOTHING,
    violations: bothWays('/fields/qty'),
  },
  {
    name: 'changes a field type although the field has a default',
    existing: [withField('qty', 'int', { default: 0 })],
    candidate: withField('qty', 'string', { default: '0' }),
    accepts: NOTHING,
    violations: bothWays('/fields/qty'),
  },
  // Enums: the reader must know every symbol the writer may write, unless it has a default.
  {
    name: 'adds an enum symbol',
    existing: [withField('status', status(['NEW', 'PAID']))],
    candidate: withField('status', status(['NEW', 'PAID', 'CANCELLED'])),
    accepts: BACKWARD_ONLY,
    violations: [[1, 'forward', '/fields/status']],
  },
  {
    name: 'adds an enum symbol when the enum has a default',
    existing: [withField('status', status(['UNKNOWN', 'NEW', 'PAID'], { default: 'UNKNOWN' }))],
    candidate: withField('status', status(['UNKNOWN', 'NEW', 'PAID', 'CANCELLED'], { default: 'UNKNOWN' })),
    accepts: ALL,
    violations: [],
  },
  {
    name: 'removes an enum symbol',
    existing: [withField('status', status(['NEW', 'PAID', 'CANCELLED']))],
    candidate: withField('status', status(['NEW', 'PAID'])),
    accepts: FORWARD_ONLY,
    violations: [[1, 'backward', '/fields/status']],
  },
  {
    name: 'removes an enum symbol and gives the enum a default',
    existing: [withField('status', status(['UNKNOWN', 'NEW', 'PAID', 'CANCELLED']))],
    candidate: withField('status', status(['UNKNOWN', 'NEW', 'PAID'], { default: 'UNKNOWN' })),
    accepts: ALL,
    violations: [],
  },
  {
    name: 'reorders enum symbols',
    existing: [withField('status', status(['NEW', 'PAID']))],
    candidate: withField('status', status(['PAID', 'NEW'])),
    accepts: ALL,
    violations: [],
  },
  // Unions: every branch the writer may write must be readable by some reader branch.
  {
    name: 'widens a union',
    existing: [withField('ref', nullable('string'), { default: null })],
    candidate: withField('ref', ['null', 'string', 'int'], { default: null }),
    accepts: BACKWARD_ONLY,
    violations: [[1, 'forward', '/fields/ref']],
  },
  {
    name: 'narrows a union',
    existing: [withField('ref', ['null', 'string', 'int'], { default: null })],
    candidate: withField('ref', nullable('string'), { default: null }),
    accepts: FORWARD_ONLY,
    violations: [[1, 'backward', '/fields/ref']],
  },
  {
    name: 'makes an optional field required',
    existing: [withField('email', nullable('string'), { default: null })],
    candidate: withField('email', 'string'),
    accepts: FORWARD_ONLY,
    violations: [[1, 'backward', '/fields/email']],
  },
  {
    name: 'makes a required field optional',
    existing: [withField('email', 'string')],
    candidate: withField('email', nullable('string'), { default: null }),
    accepts: BACKWARD_ONLY,
    violations: [[1, 'forward', '/fields/email']],
  },
  {
    name: 'promotes a type inside a union',
    existing: [withField('qty', nullable('int'), { default: null })],
    candidate: withField('qty', nullable('long'), { default: null }),
    accepts: BACKWARD_ONLY,
    violations: [[1, 'forward', '/fields/qty']],
  },
  // Renames: only the reader's aliases count.
  {
    name: 'renames a field with an alias',
    existing: [withField('email', 'string')],
    candidate: withField('emailAddress', 'string', { aliases: ['email'] }),
    accepts: BACKWARD_ONLY,
    violations: [[1, 'forward', '/fields/email']],
  },
  {
    name: 'renames a field without an alias',
    existing: [withField('email', 'string')],
    candidate: withField('emailAddress', 'string'),
    accepts: NOTHING,
    violations: [
      [1, 'backward', '/fields/emailAddress'],
      [1, 'forward', '/fields/email'],
    ],
  },
  {
    name: 'renames the record with an alias',
    existing: [order([])],
    candidate: order([], { name: 'OrderCreated', aliases: [`${NAMESPACE}.OrderPlaced`] }),
    accepts: BACKWARD_ONLY,
    violations: [[1, 'forward', '/']],
  },
  {
    name: 'renames the record without an alias',
    existing: [order([])],
    candidate: order([], { name: 'OrderCreated' }),
    accepts: NOTHING,
    violations: bothWays('/'),
  },
  {
    // An unqualified alias takes the record's own (new) namespace, so it names another type.
    name: 'renames and moves the record with an alias in the new namespace',
    existing: [order([])],
    candidate: order([], { name: 'OrderCreated', namespace: 'dev.evkit.other', aliases: ['OrderPlaced'] }),
    accepts: NOTHING,
    violations: bothWays('/'),
  },
  // Namespaces: Avro Java matches named types by unqualified name, so moving one is compatible.
  {
    name: 'moves the record to another namespace',
    existing: [order([])],
    candidate: order([], { namespace: 'dev.evkit.other' }),
    accepts: ALL,
    violations: [],
  },
  {
    name: 'moves a nested enum to another namespace',
    existing: [withField('status', status(['NEW', 'PAID']))],
    candidate: withField('status', status(['NEW', 'PAID'], { namespace: 'dev.evkit.other' })),
    accepts: ALL,
    violations: [],
  },
  // Nested records, arrays and maps.
  {
    name: 'adds a required field to a nested record',
    existing: [withField('customer', customer([]))],
    candidate: withField('customer', customer([field('tier', 'string')])),
    accepts: FORWARD_ONLY,
    violations: [[1, 'backward', '/fields/customer/fields/tier']],
  },
  {
    name: 'adds a required field to an optional nested record',
    existing: [withField('customer', nullable(customer([])), { default: null })],
    candidate: withField('customer', nullable(customer([field('tier', 'string')])), { default: null }),
    accepts: FORWARD_ONLY,
    violations: [[1, 'backward', '/fields/customer/fields/tier']],
  },
  {
    name: 'promotes the items of an array',
    existing: [withField('quantities', { type: 'array', items: 'int' })],
    candidate: withField('quantities', { type: 'array', items: 'long' }),
    accepts: BACKWARD_ONLY,
    violations: [[1, 'forward', '/fields/quantities/items']],
  },
  {
    name: 'changes the values of a map from string to int',
    existing: [withField('labels', { type: 'map', values: 'string' })],
    candidate: withField('labels', { type: 'map', values: 'int' }),
    accepts: NOTHING,
    violations: bothWays('/fields/labels/values'),
  },
  {
    name: 'turns an array into a map',
    existing: [withField('labels', { type: 'array', items: 'string' })],
    candidate: withField('labels', { type: 'map', values: 'string' }),
    accepts: NOTHING,
    violations: bothWays('/fields/labels'),
  },
  {
    name: 'changes the size of a fixed',
    existing: [withField('hash', { type: 'fixed', name: 'Hash', size: 16 })],
    candidate: withField('hash', { type: 'fixed', name: 'Hash', size: 32 }),
    accepts: NOTHING,
    violations: bothWays('/fields/hash'),
  },
  {
    name: 'promotes a field of a recursive record',
    existing: [lineItem('int')],
    candidate: lineItem('long'),
    accepts: BACKWARD_ONLY,
    violations: [[1, 'forward', '/fields/value']],
  },
  // Logical types are ignored: only the underlying types count, even where values change meaning.
  {
    name: 'adds timestamp-millis to a long',
    existing: [withField('at', 'long')],
    candidate: withField('at', { type: 'long', logicalType: 'timestamp-millis' }),
    accepts: ALL,
    violations: [],
  },
  {
    name: 'changes timestamp-millis to timestamp-micros',
    existing: [withField('at', { type: 'long', logicalType: 'timestamp-millis' })],
    candidate: withField('at', { type: 'long', logicalType: 'timestamp-micros' }),
    accepts: ALL,
    violations: [],
  },
  {
    name: 'changes the precision and scale of a decimal on bytes',
    existing: [withField('amount', { type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 })],
    candidate: withField('amount', { type: 'bytes', logicalType: 'decimal', precision: 12, scale: 4 }),
    accepts: ALL,
    violations: [],
  },
  {
    name: 'adds uuid to a string',
    existing: [withField('ref', 'string')],
    candidate: withField('ref', { type: 'string', logicalType: 'uuid' }),
    accepts: ALL,
    violations: [],
  },
  {
    name: 'changes a date (int) to timestamp-millis (long)',
    existing: [withField('at', { type: 'int', logicalType: 'date' })],
    candidate: withField('at', { type: 'long', logicalType: 'timestamp-millis' }),
    accepts: BACKWARD_ONLY,
    violations: [[1, 'forward', '/fields/at']],
  },
  // Several versions: the transitive levels see breaks the latest version hides.
  {
    name: 'reads the latest version but not v1 (backward transitive break)',
    existing: [order([]), withField('note', 'string', { default: '' })],
    candidate: withField('note', 'string'),
    accepts: ['BACKWARD', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL'],
    violations: [[1, 'backward', '/fields/note']],
  },
  {
    name: 'is readable by the latest version but not by v1 (forward transitive break)',
    existing: [withField('note', 'string'), withField('note', 'string', { default: '' })],
    candidate: order([]),
    accepts: ['BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FULL'],
    violations: [[1, 'forward', '/fields/note']],
  },
  {
    name: 'breaks different versions in different directions',
    existing: [order([]), withField('amount', 'int', { default: 0 })],
    candidate: order([field('amount', 'long', { default: 0 }), field('currency', 'string')]),
    accepts: NOTHING,
    violations: [
      [1, 'backward', '/fields/currency'],
      [2, 'backward', '/fields/currency'],
      [2, 'forward', '/fields/amount'],
    ],
  },
  {
    name: 'breaks several fields at once',
    existing: [order([field('qty', 'long'), field('status', status(['NEW', 'PAID']))])],
    candidate: order([field('qty', 'int'), field('status', status(['NEW']))], { name: 'OrderCreated' }),
    accepts: NOTHING,
    violations: [
      [1, 'backward', '/'],
      [1, 'backward', '/fields/qty'],
      [1, 'backward', '/fields/status'],
      [1, 'forward', '/'],
    ],
  },
];
