import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** What the CLI wrote to stdout and stderr during the current test (both are silenced). */
export function useCapturedOutput(): { readonly stdout: string; readonly stderr: string; clear(): void } {
  let out: string[] = [];
  let err: string[] = [];
  beforeEach(() => {
    out = [];
    err = [];
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => out.push(String(chunk)) > 0);
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => err.push(String(chunk)) > 0);
  });
  afterEach(() => jest.restoreAllMocks());
  return {
    get stdout() {
      return out.join('');
    },
    get stderr() {
      return err.join('');
    },
    clear() {
      out = [];
      err = [];
    },
  };
}

/** A fresh folder under the OS temp folder, removed after the test file. */
export function useTempFolders(): () => string {
  const made: string[] = [];
  afterAll(() => {
    for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evkit-cli-'));
    made.push(dir);
    return dir;
  };
}

/** Writes files under `dir` (objects as pretty JSON), creating folders; deletes those given `null`. */
export function writeFiles(dir: string, files: Readonly<Record<string, unknown>>): void {
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(dir, name);
    if (content === null) {
      fs.rmSync(file, { force: true });
      continue;
    }
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, typeof content === 'string' ? content : `${JSON.stringify(content, null, 2)}\n`);
  }
}

/** An Avro record schema in the test namespace. */
export function record(name: string, fields: readonly object[], extra: object = {}): object {
  return { type: 'record', name, namespace: 'com.example.test', ...extra, fields };
}

/** Runs git in `cwd` with a fixed identity, so commits work on a machine without git config. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=evkit test', '-c', 'user.email=test@evkit.dev', '-c', 'commit.gpgsign=false', ...args], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

/** `git init` with a `main` branch. */
export function initRepo(dir: string): void {
  git(dir, 'init', '--quiet', '--initial-branch=main');
}

/** Commits everything in the working tree; returns the commit's short sha. */
export function commitAll(dir: string, message: string): string {
  git(dir, 'add', '--all');
  git(dir, 'commit', '--quiet', '-m', message);
  return git(dir, 'rev-parse', '--short', 'HEAD');
}
