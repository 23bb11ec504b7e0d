import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_SUBJECT_NAME_STRATEGY, SUBJECT_NAME_STRATEGIES } from '@evkit/codec';
import { CliUsageError } from '../exit-codes';
import { isObject, messageOf, parseAvro, type ParsedSchema } from './avro-tree';

/** The subject naming strategies a file can be mapped with (the codec's, less custom functions). */
export type NamingStrategy = (typeof SUBJECT_NAME_STRATEGIES)[number];

const MAPPING_FILE_NAME = 'subjects.json';

/** What the mapping file says about one .avsc file. */
export interface MappingEntry {
  /** The topic the schema's events go to; the `topic` and `topic-record` strategies need it. */
  readonly topic?: string;
  /** The subject itself, whatever the strategy. */
  readonly subject?: string;
  /** The CloudEvents `type` whose data the schema describes (for codegen's event map). */
  readonly eventType?: string;
}

export interface SubjectMapping {
  /** The mapping file read, if any. */
  readonly file: string | undefined;
  readonly strategy: NamingStrategy | undefined;
  /** By path relative to the schema folder, with `/`. */
  readonly entries: ReadonlyMap<string, MappingEntry>;
}

export interface SchemaFile {
  readonly path: string;
  /** Relative to the schema folder, with `/`: the file's key in the mapping. */
  readonly key: string;
  /** Relative to the working directory, with `/`: what messages and annotations name. */
  readonly display: string;
  readonly text: string;
  /** The schema, or why it is not valid Avro: a finding about the file, not a usage error. */
  readonly parsed: ParsedSchema | { readonly error: string };
  readonly entry: MappingEntry;
}

/** A schema file with the subject it is registered under. */
export interface SubjectFile extends SchemaFile {
  /**
   * Undefined for an invalid schema whose subject would come from its record name, and with
   * optional subjects (`--against-git`) for a file the mapping gives no subject.
   */
  readonly subject: string | undefined;
}

export interface SchemaFileOptions {
  /** The schema folder (`--dir`). */
  dir: string;
  /** The mapping file (`--mapping`); by default `<dir>/subjects.json` when it exists. */
  mapping?: string;
  cwd?: string;
}

export interface SchemaFiles {
  readonly files: readonly SchemaFile[];
  readonly mapping: SubjectMapping;
}

export function isValid<T extends SchemaFile>(file: T): file is T & { readonly parsed: ParsedSchema } {
  return !('error' in file.parsed);
}

/** Why the file is not valid Avro; undefined when it is. */
export function schemaError(file: SchemaFile): string | undefined {
  return 'error' in file.parsed ? file.parsed.error : undefined;
}

/** Every .avsc file under the folder, in path order, with what the mapping file says about it. */
export function loadSchemaFiles(options: SchemaFileOptions): SchemaFiles {
  const cwd = options.cwd ?? process.cwd();
  const dir = path.resolve(cwd, options.dir);
  if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new CliUsageError(`--dir ${options.dir} is not a folder`);
  const keys = fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.avsc'))
    .map(toPosix)
    .sort();
  if (keys.length === 0) throw new CliUsageError(`no .avsc files under ${options.dir}`);

  const mapping = readMapping(options.mapping === undefined ? path.join(dir, MAPPING_FILE_NAME) : path.resolve(cwd, options.mapping), options.mapping !== undefined);
  const unknown = [...mapping.entries.keys()].filter((key) => !keys.includes(key));
  if (unknown.length > 0) throw new CliUsageError(`${mapping.file}: no such .avsc file under ${options.dir}: ${unknown.join(', ')}`);

  const files = keys.map((key): SchemaFile => {
    const file = path.join(dir, key);
    const text = fs.readFileSync(file, 'utf8');
    let parsed: SchemaFile['parsed'];
    try {
      parsed = parseAvro(text);
    } catch (error) {
      parsed = { error: messageOf(error) };
    }
    return { path: file, key, display: toPosix(path.relative(cwd, file)), text, parsed, entry: mapping.entries.get(key) ?? {} };
  });
  return { files, mapping };
}

/**
 * Whether every file must have a subject: the registry commands look schemas up by subject, while
 * `--against-git` reads each file's own history and names subjects only where it can.
 */
export type SubjectNeed = 'required' | 'optional';

/**
 * Each file with its subject: the mapping's `subject`, else the strategy's name (`--strategy`,
 * else the mapping's `strategy`, else the codec's default, `topic-record`). When subjects are
 * `required`, throws CliUsageError if the mapping does not give what the strategy needs; when
 * `optional`, such a file has no subject.
 */
export function withSubjects({ files, mapping }: SchemaFiles, strategy?: NamingStrategy, need: SubjectNeed = 'required'): SubjectFile[] {
  const chosen = strategy ?? mapping.strategy ?? DEFAULT_SUBJECT_NAME_STRATEGY;
  return files.map((file) => {
    const named = subjectOf(file, chosen, mapping);
    if (typeof named === 'object') {
      if (need === 'required') throw new CliUsageError(named.missing);
      return { ...file, subject: undefined };
    }
    return { ...file, subject: named };
  });
}

/** The subject; undefined for an invalid schema whose name it would need; `missing` says what the mapping lacks. */
function subjectOf(file: SchemaFile, strategy: NamingStrategy, mapping: SubjectMapping): string | undefined | { missing: string } {
  const { entry, display } = file;
  if (entry.subject !== undefined) return entry.subject;
  const where = mapping.file ?? `a ${MAPPING_FILE_NAME} in the schema folder`;
  if (strategy !== 'record' && entry.topic === undefined) {
    return { missing: `${display}: the ${strategy} naming strategy needs its topic; map it in ${where} ("topic" or "subject"), or use --strategy record` };
  }
  if (strategy === 'topic') return `${entry.topic}-value`;
  if (!isValid(file)) return undefined;
  const recordName = file.parsed.type.name;
  if (recordName === undefined) {
    return { missing: `${display}: the top-level schema has no name for the ${strategy} naming strategy; give its "subject" in ${where}` };
  }
  return strategy === 'record' ? recordName : `${entry.topic}-${recordName}`;
}

const ENTRY_KEYS = ['topic', 'subject', 'eventType'] as const;

/** Reads and validates the mapping file; a missing default one is an empty mapping. */
function readMapping(file: string, required: boolean): SubjectMapping {
  if (!fs.existsSync(file)) {
    if (required) throw new CliUsageError(`--mapping ${file}: no such file`);
    return { file: undefined, strategy: undefined, entries: new Map() };
  }
  const bad = (problem: string) => new CliUsageError(`${file}: ${problem}`);
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw bad(`not JSON: ${messageOf(error)}`);
  }
  if (!isObject(json)) throw bad('must be a JSON object with "schemas" (and optionally "strategy")');
  const extra = Object.keys(json).filter((key) => !['strategy', 'schemas', '$comment'].includes(key));
  if (extra.length > 0) throw bad(`unknown key(s) ${extra.join(', ')}; expected strategy, schemas, $comment`);
  const { strategy, schemas = {} } = json;
  if (strategy !== undefined && !(SUBJECT_NAME_STRATEGIES as readonly unknown[]).includes(strategy)) {
    throw bad(`"strategy" must be one of ${SUBJECT_NAME_STRATEGIES.join(', ')}, got ${JSON.stringify(strategy)}`);
  }
  if (!isObject(schemas)) throw bad('"schemas" must map .avsc paths (relative to the schema folder) to {topic, subject, eventType}');
  const entries = new Map<string, MappingEntry>();
  for (const [key, value] of Object.entries(schemas)) {
    entries.set(key.replace(/^\.\//, ''), mappingEntry(value, (problem) => bad(`schemas["${key}"] ${problem}`)));
  }
  return { file, strategy: strategy as NamingStrategy | undefined, entries };
}

function mappingEntry(value: unknown, bad: (problem: string) => Error): MappingEntry {
  if (!isObject(value)) throw bad(`must be an object with ${ENTRY_KEYS.join(', ')}`);
  const extra = Object.keys(value).filter((key) => !(ENTRY_KEYS as readonly string[]).includes(key));
  if (extra.length > 0) throw bad(`has unknown key(s) ${extra.join(', ')}; expected ${ENTRY_KEYS.join(', ')}`);
  for (const key of ENTRY_KEYS) {
    const field = value[key];
    if (field !== undefined && (typeof field !== 'string' || field.length === 0)) throw bad(`"${key}" must be a non-empty string`);
  }
  return value;
}

function toPosix(file: string): string {
  return file.split(path.sep).join('/');
}
