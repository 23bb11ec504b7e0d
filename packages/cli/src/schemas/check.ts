import { checkCompatibility, type CompatibilityViolation } from '@evkit/codec';
import { messageOf, parseAvro } from './avro-tree';
import type { ExistingVersion, LevelInForce, SchemaHistory } from './history';
import { isValid, schemaError, type SubjectFile } from './schema-files';

/** A version as findings name it: the registry's number, or in git also the commit. */
export interface VersionRef {
  readonly version: number;
  readonly commit?: string;
}

export interface BrokenVersion extends VersionRef {
  readonly violations: readonly Omit<CompatibilityViolation, 'version'>[];
}

export interface SchemaCheckResult {
  readonly file: string;
  readonly subject: string | undefined;
  /**
   * `new`: nothing to be compatible with yet; `invalid`: the file is not valid Avro (`error` says
   * why); `incompatible`: `broken` lists the versions and reasons.
   */
  readonly status: 'compatible' | 'new' | 'incompatible' | 'invalid';
  readonly error?: string;
  readonly level?: LevelInForce;
  readonly checked: readonly VersionRef[];
  readonly broken: readonly BrokenVersion[];
  /** Existing versions avsc cannot parse (it is stricter than Avro Java in three corners); not judged. */
  readonly skipped: readonly (VersionRef & { readonly reason: string })[];
}

/** A result CI should fail on: the schema is invalid or incompatible, or its subject's level is too weak. */
export function isFinding(result: SchemaCheckResult): boolean {
  return result.status === 'invalid' || result.status === 'incompatible' || result.level?.tooWeak !== undefined;
}

export function versionLabel(ref: VersionRef): string {
  return ref.commit === undefined ? `version ${ref.version}` : `v${ref.version} (${ref.commit})`;
}

/** Checks each file against the versions its level covers, with the offline checker (the registry's rules). */
export function checkSchemas(files: readonly SubjectFile[], history: SchemaHistory): Promise<SchemaCheckResult[]> {
  return Promise.all(files.map((file) => checkOne(file, history)));
}

async function checkOne(file: SubjectFile, history: SchemaHistory): Promise<SchemaCheckResult> {
  const base = { file: file.display, subject: file.subject, checked: [], broken: [], skipped: [] };
  if (!isValid(file)) return { ...base, status: 'invalid', error: schemaError(file) };
  const level = await history.levelFor(file);
  const existing = await history.versionsOf(file, level.level.endsWith('_TRANSITIVE') ? 'all' : 'latest');
  const { valid, skipped } = splitParseable(existing);
  const { violations } = checkCompatibility({ candidate: file.text, existing: valid, level: level.level });
  const broken = valid
    .map((v) => ({ ...refOf(v), violations: violations.filter((x) => x.version === v.version).map(({ version: _, ...rest }) => rest) }))
    .filter((v) => v.violations.length > 0);
  const status = broken.length > 0 ? 'incompatible' : existing.length === 0 ? 'new' : 'compatible';
  return { ...base, status, level, checked: valid.map(refOf), broken, skipped };
}

function splitParseable(existing: readonly ExistingVersion[]) {
  const valid: ExistingVersion[] = [];
  const skipped: (VersionRef & { reason: string })[] = [];
  for (const version of existing) {
    try {
      parseAvro(version.schema);
      valid.push(version);
    } catch (error) {
      skipped.push({ ...refOf(version), reason: messageOf(error) });
    }
  }
  return { valid, skipped };
}

function refOf(version: ExistingVersion): VersionRef {
  return version.commit === undefined ? { version: version.version } : { version: version.version, commit: version.commit };
}
