import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { CliDependencyError, CliUsageError } from '../exit-codes';

const exec = promisify(execFile);

/** One version of a file in git history. */
export interface GitFileVersion {
  readonly commit: string;
  readonly shortCommit: string;
  /** The file's path at that commit, relative to the repository root (it differs after a rename). */
  readonly path: string;
  readonly text: string;
}

async function git(cwd: string, args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await exec('git', [...args], { cwd, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' });
    return stdout;
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: string };
    if (failure.code === 'ENOENT') throw new CliDependencyError('git is not installed (needed by --against-git)', { cause: error });
    const detail = failure.stderr?.trim().split('\n')[0] ?? failure.message;
    throw new CliDependencyError(`git ${args[0]} failed in ${cwd}: ${detail}`, { cause: error });
  }
}

/**
 * Checks once that `ref` names a commit, so an unknown ref is a usage error naming it rather than
 * a git failure per file. Refs starting with `-` are refused: git would read them as options.
 */
export async function verifyGitRef(cwd: string, ref: string): Promise<void> {
  if (ref.startsWith('-')) throw new CliUsageError(`--against-git ${ref} is not a git ref`);
  const usage = (message: string) => (error: unknown) => {
    if ((error as { cause?: { code?: unknown } }).cause?.code === 'ENOENT') throw error;
    throw new CliUsageError(message, { cause: error });
  };
  await git(cwd, ['rev-parse', '--is-inside-work-tree']).catch(usage(`--against-git needs the schemas in a git working tree; ${cwd} is not in one`));
  await git(cwd, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]).catch(
    usage(`--against-git ${ref} names no commit in this repository (in CI, fetch it first: actions/checkout with fetch-depth: 0)`),
  );
}

/**
 * Every version of `file` in the history reachable from `ref`, oldest first: `git log` lists the
 * commits that changed it, `git show` reads it at each. Renames are followed (`--follow`, git's
 * similarity detection), so a schema moved to another folder keeps its history; commits that
 * deleted it, and merges (which list no change of their own), are passed over.
 */
export async function gitFileHistory(file: string, ref: string): Promise<GitFileVersion[]> {
  const cwd = path.dirname(file);
  const log = await git(cwd, ['log', '--follow', '--name-status', '--format=%x1e%H%x1f%h', ref, '--', path.basename(file)]);
  const changes = log
    .split('\x1e')
    .slice(1)
    .flatMap((entry) => {
      const [header = '', ...lines] = entry.split('\n');
      const [commit = '', shortCommit = ''] = header.split('\x1f');
      const status = lines.filter((line) => line.length > 0).at(-1);
      if (status === undefined || status.startsWith('D')) return [];
      return [{ commit, shortCommit, path: status.split('\t').at(-1)! }];
    });
  const versions = await Promise.all(
    changes.map(async (change) => ({ ...change, text: await git(cwd, ['show', `${change.commit}:${change.path}`]) })),
  );
  return versions.reverse();
}
