import { isDeepStrictEqual } from 'node:util';
import {
  CompatibilityTooWeakError,
  createAvroCodec,
  IncompatibleSchemaError,
  InvalidSchemaError,
  type CompatibilityLevel,
  type SchemaRegistryClient,
} from '@evkit/codec';
import { isValid, schemaError, type SubjectFile } from './schema-files';

export interface RegisterResult {
  readonly file: string;
  readonly subject: string | undefined;
  /** `refused`: the producer's enforcement said no (`error` says why); `invalid`: not valid Avro. */
  readonly status: 'registered' | 'unchanged' | 'refused' | 'invalid';
  readonly id?: number;
  /** The version under the subject; undefined when the registry stores the schema in another form. */
  readonly version?: number;
  readonly error?: string;
}

/**
 * Registers each valid file under its subject through the codec's `prepare`: exactly the
 * enforcement a producer applies before its first publish (the subject's level is set to
 * `requiredCompatibility` when it has none, refused when weaker, every version the level covers
 * checked), then registration. Idempotent: a schema already there keeps its id and version.
 *
 * What is registered is the file's JSON without whitespace: the text the codec sends for a schema
 * object (such as codegen's `schemas` map), so a producer with `autoRegister: false` finds it.
 * Apicurio matches schemas by their exact text.
 */
export async function registerSchemas(
  files: readonly SubjectFile[],
  registry: SchemaRegistryClient,
  requiredCompatibility: CompatibilityLevel,
): Promise<RegisterResult[]> {
  // The subjects are resolved already (mapping file or strategy), so the codec's "topic" is the subject itself.
  const codec = createAvroCodec({ registry, subjectNameStrategy: (subject) => subject, requiredCompatibility, autoRegister: true });
  const results: RegisterResult[] = [];
  // One at a time: two files may share a subject, and each registration changes what the next is checked against.
  for (const file of files) {
    const base = { file: file.display, subject: file.subject };
    if (!isValid(file) || file.subject === undefined) {
      results.push({ ...base, status: 'invalid', error: schemaError(file) ?? 'no subject' });
      continue;
    }
    const schema = JSON.stringify(file.parsed.json);
    try {
      const known = await registry.lookup(file.subject, schema);
      const id = await codec.prepare(file.subject, schema);
      const version = await versionOf(registry, file.subject, file.parsed.json);
      results.push({ ...base, status: known === undefined ? 'registered' : 'unchanged', id, ...(version === undefined ? {} : { version }) });
    } catch (error) {
      if (!(error instanceof IncompatibleSchemaError || error instanceof CompatibilityTooWeakError || error instanceof InvalidSchemaError)) throw error;
      results.push({ ...base, status: 'refused', error: `${error.code}: ${error.message}` });
    }
  }
  return results;
}

/**
 * The version holding `json`, newest first (where a fresh registration is). The registry client
 * answers lookups with the id only, so versions are compared as JSON, which also matches a
 * registry that stores schemas reformatted (Confluent's canonical text).
 */
async function versionOf(registry: SchemaRegistryClient, subject: string, json: unknown): Promise<number | undefined> {
  for (const version of (await registry.versions(subject)).reverse()) {
    if (isDeepStrictEqual(JSON.parse(await registry.schemaAt(subject, version)), json)) return version;
  }
  return undefined;
}
