import { satisfiesCompatibility, type CompatibilityLevel, type SchemaRegistryClient } from '@evkit/codec';
import { gitFileHistory } from './git';
import type { SubjectFile } from './schema-files';

/** The level evkit's producers require by default, and so the check's default. */
export const REQUIRED_LEVEL: CompatibilityLevel = 'BACKWARD_TRANSITIVE';

/** A version a candidate is checked or diffed against. */
export interface ExistingVersion {
  /** The registry's version number; in git, the position in the file's history (1 = oldest). */
  readonly version: number;
  /** Git only: the commit's short sha. */
  readonly commit?: string;
  readonly schema: string;
}

export interface LevelInForce {
  readonly level: CompatibilityLevel;
  /** `flag`: --level; `subject`: the subject's own on the registry; `default`: REQUIRED_LEVEL. */
  readonly source: 'flag' | 'subject' | 'default';
  /**
   * The subject's own level when it is weaker than REQUIRED_LEVEL: producers refuse to publish
   * to it (CompatibilityTooWeakError) and `register` refuses too, so the check reports it and
   * checks at REQUIRED_LEVEL instead. Apicurio reports NONE for a subject without a rule of its own.
   */
  readonly tooWeak?: CompatibilityLevel;
}

/** Where earlier versions of a schema come from: the registry or git history. */
export interface SchemaHistory {
  /** For messages: `registry <url>` or `git history of <ref>`. */
  readonly origin: string;
  levelFor(file: SubjectFile): Promise<LevelInForce>;
  /** Oldest first; with `latest`, at most the newest one. */
  versionsOf(file: SubjectFile, which: 'all' | 'latest'): Promise<ExistingVersion[]>;
}

/** The versions registered under each file's subject, at the subject's level unless `--level` says otherwise. */
export function registryHistory(registry: SchemaRegistryClient, levelFlag: CompatibilityLevel | undefined): SchemaHistory {
  return {
    origin: `registry ${registry.displayUrl}`,
    async levelFor(file) {
      if (levelFlag !== undefined) return { level: levelFlag, source: 'flag' };
      const own = await registry.subjectCompatibility(subjectOf(file));
      if (own === undefined) return { level: REQUIRED_LEVEL, source: 'default' };
      if (satisfiesCompatibility(own, REQUIRED_LEVEL)) return { level: own, source: 'subject' };
      return { level: REQUIRED_LEVEL, source: 'subject', tooWeak: own };
    },
    async versionsOf(file, which) {
      const subject = subjectOf(file);
      const versions = await registry.versions(subject);
      const wanted = which === 'latest' ? versions.slice(-1) : versions;
      return Promise.all(wanted.map(async (version) => ({ version, schema: await registry.schemaAt(subject, version) })));
    },
  };
}

/** Every version of each file in the git history reachable from `ref`, at `--level` or REQUIRED_LEVEL. */
export function gitHistory(ref: string, levelFlag: CompatibilityLevel | undefined): SchemaHistory {
  return {
    origin: `git history of ${ref}`,
    levelFor: () => Promise.resolve(levelFlag === undefined ? { level: REQUIRED_LEVEL, source: 'default' } : { level: levelFlag, source: 'flag' }),
    async versionsOf(file, which) {
      const history = (await gitFileHistory(file.path, ref)).map((v, i) => ({ version: i + 1, commit: v.shortCommit, schema: v.text }));
      return which === 'latest' ? history.slice(-1) : history;
    },
  };
}

function subjectOf(file: SubjectFile): string {
  // Only files whose schema parsed reach a history, and those always have a subject.
  if (file.subject === undefined) throw new TypeError(`${file.display} has no subject`);
  return file.subject;
}
