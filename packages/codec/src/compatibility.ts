// Over 300 lines for a reason: Avro's schema-resolution rules (records, unions, enums, fixed,
// promotions, aliases) are one recursive checker; split, the rules would stop reading as one.
import * as avro from 'avsc';
import { CodecConfigError, InvalidSchemaError } from './errors';

/**
 * The offline Avro compatibility check: what a Confluent-compatible schema registry (Confluent,
 * Apicurio) decides for a new schema under a subject's compatibility level, without asking one.
 *
 * Both registries delegate to Avro Java's `SchemaCompatibility`, so that is the rule set
 * implemented here, as a walk over the schemas that avsc parsed. avsc's own resolver
 * (`createResolver`) is not the judge because it disagrees with Java where it matters:
 * - named types match by full name in avsc; Java compares unqualified names, so a record, enum or
 *   fixed that only moved to another namespace stays compatible on the registry;
 * - with `ignoreNamespaces` avsc also matches aliases by unqualified name, which Java does not;
 * - it stops at the first problem, with no location, and crashes with a TypeError on a record
 *   reader against a union writer.
 * Logical types are ignored, as in Java: the registry accepts timestamp-millis -> timestamp-micros
 * or a changed decimal scale, although the values then mean something else.
 */

export const COMPATIBILITY_LEVELS = [
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
  'NONE',
] as const;

export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number];

/** A version registered under the subject; `schema` is Avro schema JSON, as text or parsed. */
export interface SchemaVersion {
  readonly version: number;
  readonly schema: string | object;
}

/**
 * One reason the candidate is refused. `backward`: the candidate cannot read data written with
 * `version`; `forward`: `version` cannot read data written with the candidate. `path` locates
 * the problem in the reader's schema (`/` is the root, `/fields/customer/fields/tier` a nested
 * field, `/items` and `/values` the element type of an array or map).
 */
export interface CompatibilityViolation {
  readonly version: number;
  readonly direction: 'backward' | 'forward';
  readonly path: string;
  readonly reason: string;
}

export interface CompatibilityResult {
  readonly compatible: boolean;
  /** In version order, backward before forward; empty when compatible. */
  readonly violations: readonly CompatibilityViolation[];
}

export interface CompatibilityCheckOptions {
  readonly candidate: string | object;
  /** The subject's versions, in any order; the latest is the highest version. */
  readonly existing: readonly SchemaVersion[];
  readonly level: CompatibilityLevel;
}

type Direction = CompatibilityViolation['direction'];

/** Which existing versions a level checks (the latest or all) and in which directions. */
const LEVEL_RULES: Readonly<Record<CompatibilityLevel, { transitive: boolean; directions: readonly Direction[] }>> = {
  BACKWARD: { transitive: false, directions: ['backward'] },
  BACKWARD_TRANSITIVE: { transitive: true, directions: ['backward'] },
  FORWARD: { transitive: false, directions: ['forward'] },
  FORWARD_TRANSITIVE: { transitive: true, directions: ['forward'] },
  FULL: { transitive: false, directions: ['backward', 'forward'] },
  FULL_TRANSITIVE: { transitive: true, directions: ['backward', 'forward'] },
  NONE: { transitive: false, directions: [] },
};

export function isCompatibilityLevel(value: unknown): value is CompatibilityLevel {
  return (COMPATIBILITY_LEVELS as readonly unknown[]).includes(value);
}

/**
 * Decides, as the registry would, whether `candidate` may be registered under a subject holding
 * `existing` at `level`. Every schema is parsed, even under NONE, because the registry refuses
 * invalid schemas at any level. Throws InvalidSchemaError for a schema avsc cannot parse, and
 * CodecConfigError for a level that is not one of COMPATIBILITY_LEVELS.
 */
export function checkCompatibility(options: CompatibilityCheckOptions): CompatibilityResult {
  const { level } = options;
  if (!isCompatibilityLevel(level)) {
    throw new CodecConfigError(`level must be one of ${COMPATIBILITY_LEVELS.join(', ')}, got ${JSON.stringify(level)}`);
  }
  const candidate = parseSchema(options.candidate, 'the candidate');
  const versions = [...options.existing]
    .sort((a, b) => a.version - b.version)
    .map((v) => ({ version: v.version, type: parseSchema(v.schema, `v${v.version}`) }));
  const { transitive, directions } = LEVEL_RULES[level];
  const violations = (transitive ? versions : versions.slice(-1)).flatMap((existing) =>
    directions.flatMap((direction) => checkDirection(candidate, existing, direction)),
  );
  return { compatible: violations.length === 0, violations };
}

/**
 * avsc is the judge of validity, being what evkit encodes with. It is stricter than Avro Java 1.12
 * (and so than the registry, which accepts these) in three places: a union field default that
 * matches a branch other than the first, a float or double default written as a string ("NaN"),
 * and an empty union. Such a schema throws here. (It is laxer in one corner the registry refuses
 * with 422: `null` as the default of a record that has no fields.)
 */
function parseSchema(schema: string | object, label: string): avro.Type {
  let json: unknown = schema;
  if (typeof schema === 'string') {
    try {
      json = JSON.parse(schema);
    } catch (error) {
      throw new InvalidSchemaError(`${label} is not valid JSON: ${messageOf(error)}`, { cause: error });
    }
  }
  try {
    return avro.Type.forSchema(json as avro.Schema);
  } catch (error) {
    throw new InvalidSchemaError(`${label} is not a valid Avro schema: ${messageOf(error)}`, { cause: error });
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function checkDirection(
  candidate: avro.Type,
  existing: { version: number; type: avro.Type },
  direction: Direction,
): CompatibilityViolation[] {
  const [reader, writer] = direction === 'backward' ? [candidate, existing.type] : [existing.type, candidate];
  const findings = new ReadabilityCheck(direction, `v${existing.version}`).run(reader, writer);
  return findings.map((finding) => ({ version: existing.version, direction, ...finding }));
}

/** Where in the reader schema the walk is, with the reader and writer types found there. */
interface Site {
  readonly path: string;
  readonly reader: avro.Type;
  readonly writer: avro.Type;
}

interface Finding {
  readonly path: string;
  readonly reason: string;
}

function finding(path: string, reason: string): Finding {
  return { path: path || '/', reason };
}

/** What a writer type may be read as besides itself (the Avro spec's promotions). */
const PROMOTIONS: Readonly<Record<string, readonly string[]>> = {
  int: ['long', 'float', 'double'],
  long: ['float', 'double'],
  float: ['double'],
  string: ['bytes'],
  bytes: ['string'],
};

/** Java's `ReaderWriterCompatibilityChecker`: can `reader` read everything `writer` writes? */
class ReadabilityCheck {
  /** Reader/writer pairs being checked further up the walk. */
  private readonly inProgress = new Map<avro.Type, Set<avro.Type>>();
  private readonly writerLabel: string;

  constructor(
    private readonly direction: Direction,
    existingLabel: string,
  ) {
    this.writerLabel = direction === 'backward' ? existingLabel : 'the candidate';
  }

  run(reader: avro.Type, writer: avro.Type): Finding[] {
    return this.check(reader, writer, { path: '', reader, writer });
  }

  private check(reader: avro.Type, writer: avro.Type, site: Site): Finding[] {
    // Java answers "compatible" for a pair already under check: that is how it ends the walk on
    // recursive types, and what decides the verdict when a recursive type changes.
    const writers = this.inProgress.get(reader) ?? new Set<avro.Type>();
    if (writers.has(writer)) return [];
    this.inProgress.set(reader, writers.add(writer));
    try {
      return this.compare(reader, writer, site);
    } finally {
      writers.delete(writer);
    }
  }

  private compare(reader: avro.Type, writer: avro.Type, site: Site): Finding[] {
    // Every branch the writer may have written must be readable (also when the reader is a union).
    if (isUnion(writer)) return writer.types.flatMap((branch) => this.check(reader, branch, site));
    if (isUnion(reader)) return this.readIntoUnion(reader, writer, site);
    if (kindOf(reader) !== kindOf(writer)) {
      if (PROMOTIONS[kindOf(writer)]?.includes(kindOf(reader))) return [];
      return [this.typeChanged(site, `${describe(reader)} cannot read ${describe(writer)}`)];
    }
    return this.compareSameKind(reader, writer, site);
  }

  private compareSameKind(reader: avro.Type, writer: avro.Type, site: Site): Finding[] {
    if (reader instanceof avro.types.RecordType && writer instanceof avro.types.RecordType) {
      return [...this.names(reader, writer, site), ...reader.fields.flatMap((field) => this.readField(field, writer, site.path))];
    }
    if (reader instanceof avro.types.EnumType && writer instanceof avro.types.EnumType) {
      return [...this.names(reader, writer, site), ...this.symbols(reader, writer, site)];
    }
    if (reader instanceof avro.types.FixedType && writer instanceof avro.types.FixedType) {
      return [...this.names(reader, writer, site), ...this.size(reader, writer, site)];
    }
    if (reader instanceof avro.types.ArrayType && writer instanceof avro.types.ArrayType) {
      return this.descend(reader.itemsType, writer.itemsType, `${site.path}/items`);
    }
    if (reader instanceof avro.types.MapType && writer instanceof avro.types.MapType) {
      return this.descend(reader.valuesType as avro.Type, writer.valuesType as avro.Type, `${site.path}/values`);
    }
    return []; // the same primitive
  }

  private descend(reader: avro.Type, writer: avro.Type, path: string): Finding[] {
    return this.check(reader, writer, { path, reader, writer });
  }

  /**
   * One reader branch must read the writer's type. When none does, the branch of the same kind
   * and name (say the optional record that gained a field) explains why better than "no branch".
   */
  private readIntoUnion(reader: UnionType, writer: avro.Type, site: Site): Finding[] {
    const attempts: Finding[][] = [];
    for (const branch of reader.types) {
      const findings = this.check(branch, writer, site);
      if (findings.length === 0) return [];
      attempts.push(findings);
    }
    const closest = reader.types.findIndex((branch) => kindOf(branch) === kindOf(writer) && namesMatch(branch, writer));
    const explanation = attempts[closest];
    return explanation ?? [this.typeChanged(site, `no branch of ${describe(reader)} can read ${describe(writer)}`)];
  }

  private readField(field: avro.types.Field, writer: avro.types.RecordType, path: string): Finding[] {
    const fieldPath = `${path}/fields/${field.name}`;
    // As Java's lookupWriterField: the reader field's name and aliases, against writer field names only.
    const sources = [field.name, ...field.aliases].flatMap((name) => writer.fields.filter((w) => w.name === name));
    const [source] = sources;
    if (sources.length > 1) {
      const names = sources.map((s) => s.name).join(', ');
      return [finding(fieldPath, `field '${field.name}' matches several writer fields through its aliases (${names})`)];
    }
    if (source) return this.descend(field.type, source.type, fieldPath);
    if (field.defaultValue() !== undefined) return [];
    // Java has a special case for an enum field with an enum default here, but it compares that
    // enum with the writer's record, so the verdict is the same: incompatible.
    return [finding(fieldPath, `field '${field.name}' has no default and is missing from the writer schema (${this.writerLabel})`)];
  }

  private names(reader: NamedType, writer: NamedType, site: Site): Finding[] {
    if (namesMatch(reader, writer)) return [];
    const [from, to] = this.existingThenCandidate(reader, writer);
    const reason = `${kindOf(reader)} name changed from ${from.name} to ${to.name} and the reader has no alias ${writer.name}`;
    return [finding(site.path, reason)];
  }

  private symbols(reader: avro.types.EnumType, writer: avro.types.EnumType, site: Site): Finding[] {
    if (enumDefault(reader) !== undefined) return [];
    return writer.symbols
      .filter((symbol) => !reader.symbols.includes(symbol))
      .map((symbol) => {
        const reason = `enum symbol '${symbol}' written by ${this.writerLabel} is unknown to the reader and the reader enum has no default`;
        return finding(site.path, reason);
      });
  }

  private size(reader: avro.types.FixedType, writer: avro.types.FixedType, site: Site): Finding[] {
    if (reader.size === writer.size) return [];
    const [from, to] = this.existingThenCandidate(reader, writer);
    return [finding(site.path, `fixed ${writer.name} size changed from ${from.size} to ${to.size}`)];
  }

  /** A finding told as the change from the existing schema to the candidate at this site. */
  private typeChanged(site: Site, detail: string): Finding {
    const [from, to] = this.existingThenCandidate(site.reader, site.writer);
    return finding(site.path, `type changed from ${describe(from)} to ${describe(to)} and ${detail}`);
  }

  private existingThenCandidate<T>(reader: T, writer: T): [T, T] {
    return this.direction === 'backward' ? [writer, reader] : [reader, writer];
  }
}

type UnionType = avro.types.UnwrappedUnionType | avro.types.WrappedUnionType;
type NamedType = avro.types.RecordType | avro.types.EnumType | avro.types.FixedType;

function isUnion(type: avro.Type): type is UnionType {
  return type instanceof avro.types.UnwrappedUnionType || type instanceof avro.types.WrappedUnionType;
}

/** The Avro type a schema node is, with avsc's variants folded (an error is a record). */
function kindOf(type: avro.Type): string {
  if (isUnion(type)) return 'union';
  return type.typeName === 'error' ? 'record' : type.typeName;
}

/**
 * Java's `schemaNameEquals`: the unqualified names are equal, or the reader has an alias for the
 * writer's full name. Unnamed types always match.
 */
function namesMatch(reader: avro.Type, writer: avro.Type): boolean {
  if (reader.name === undefined || writer.name === undefined) return true;
  return unqualified(reader.name) === unqualified(writer.name) || (reader.aliases ?? []).includes(writer.name);
}

function unqualified(name: string): string {
  return name.slice(name.lastIndexOf('.') + 1);
}

function enumDefault(type: avro.types.EnumType): string | undefined {
  // avsc keeps the enum's `default` (validated against the symbols) but its typings omit it.
  return (type as unknown as { default?: string }).default;
}

function describe(type: avro.Type): string {
  if (isUnion(type)) return `union [${type.types.map(describe).join(', ')}]`;
  if (type instanceof avro.types.ArrayType) return `array<${describe(type.itemsType)}>`;
  if (type instanceof avro.types.MapType) return `map<${describe(type.valuesType as avro.Type)}>`;
  return type.name === undefined ? type.typeName : `${kindOf(type)} ${type.name}`;
}
