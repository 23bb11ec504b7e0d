import * as avro from 'avsc';
import { checkCompatibility, type CompatibilityLevel } from './compatibility';
import { IncompatibleSchemaError, RegistryRequestError, UnknownSchemaIdError } from './errors';
import type { SchemaRegistryClient } from './registry-client';

export interface InMemoryRegistry extends SchemaRegistryClient {
  /** Requests served so far, by operation: tests assert on caching with it. */
  readonly calls: Readonly<Record<string, number>>;
}

/**
 * A schema registry in memory, for fast unit tests of code that uses the codec. Its
 * compatibility verdicts come from the offline checker, which the integration suite holds to
 * agree with a real registry. Ids are per distinct schema text, as in Confluent's registry.
 */
export function createInMemoryRegistry(options: { globalCompatibility?: CompatibilityLevel } = {}): InMemoryRegistry {
  const global: CompatibilityLevel = options.globalCompatibility ?? 'BACKWARD';
  const ids = new Map<string, number>();
  const texts: string[] = [];
  const subjects = new Map<string, string[]>();
  const levels = new Map<string, CompatibilityLevel>();
  const calls: Record<string, number> = {};
  const count = (operation: string) => {
    calls[operation] = (calls[operation] ?? 0) + 1;
  };
  const levelOf = (subject: string) => levels.get(subject) ?? global;
  const versionsOf = (subject: string) => subjects.get(subject) ?? [];
  const verdict = (subject: string, schema: string, against: number[], level: CompatibilityLevel) =>
    checkCompatibility({
      candidate: schema,
      existing: against.map((version) => ({ version, schema: versionsOf(subject)[version - 1]! })),
      level,
    });

  return {
    displayUrl: 'memory://registry',
    calls,
    typeById(id) {
      count('typeById');
      const text = texts[id - 1];
      if (text === undefined) return Promise.reject(new UnknownSchemaIdError(id));
      return Promise.resolve(avro.Type.forSchema(JSON.parse(text) as avro.Schema));
    },
    lookup(subject, schema) {
      count('lookup');
      return Promise.resolve(versionsOf(subject).includes(schema) ? ids.get(schema) : undefined);
    },
    register(subject, schema) {
      count('register');
      const versions = versionsOf(subject);
      if (!versions.includes(schema)) {
        const level = levelOf(subject);
        const all = versions.map((_, i) => i + 1);
        const result = verdict(subject, schema, level.endsWith('_TRANSITIVE') ? all : all.slice(-1), level);
        if (!result.compatible) {
          const broken = [...new Set(result.violations.map((v) => v.version))];
          return Promise.reject(new IncompatibleSchemaError(subject, level, broken.map((version) => ({ version, reasons: [] }))));
        }
        subjects.set(subject, [...versions, schema]);
      }
      if (!ids.has(schema)) {
        texts.push(schema);
        ids.set(schema, texts.length);
      }
      return Promise.resolve(ids.get(schema)!);
    },
    subjectCompatibility(subject) {
      count('subjectCompatibility');
      return Promise.resolve(levels.get(subject));
    },
    globalCompatibility() {
      count('globalCompatibility');
      return Promise.resolve(global);
    },
    setSubjectCompatibility(subject, level) {
      count('setSubjectCompatibility');
      levels.set(subject, level);
      return Promise.resolve(true);
    },
    versions(subject) {
      count('versions');
      return Promise.resolve(versionsOf(subject).map((_, i) => i + 1));
    },
    schemaAt(subject, version) {
      count('schemaAt');
      const text = versionsOf(subject)[version - 1];
      return text === undefined ? Promise.reject(new RegistryRequestError(`no version ${version} of ${subject}`)) : Promise.resolve(text);
    },
    isCompatibleWith(subject, version, schema) {
      count('isCompatibleWith');
      return Promise.resolve(verdict(subject, schema, [version], levelOf(subject).replace('_TRANSITIVE', '') as CompatibilityLevel).compatible);
    },
  };
}
