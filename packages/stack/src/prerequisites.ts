import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { StackPrerequisiteError } from './errors';
import { commandExists, run } from './processes';

/** The Maven project that pins and resolves every JVM artifact of the stack. */
export const POM_DIR = path.resolve(__dirname, '..', 'maven');
const POM_FILES = ['pom.xml', 'jvm/pom.xml', 'apicurio/pom.xml'];

let aptUpdated = false;

/**
 * Installs Debian packages for commands that are missing. Needs root (CI runs as root); without
 * it, says exactly what to install instead of failing later with a cryptic error.
 */
export function ensureDebianPackages(needs: readonly { command: string; pkg: string }[]): void {
  const missing = needs.filter((n) => !commandExists(n.command));
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map((n) => n.pkg))];
  if (process.getuid?.() !== 0 || !commandExists('apt-get')) {
    throw new StackPrerequisiteError(
      `missing ${missing.map((n) => n.command).join(', ')}; install the Debian package(s) ${pkgs.join(' ')}`,
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    run('apt-get', ['update', '-q'], { env });
    aptUpdated = true;
  }
  run('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...pkgs], { env });
}

export function ensureJava(): void {
  ensureDebianPackages([
    { command: 'java', pkg: 'openjdk-17-jre-headless' },
    { command: 'mvn', pkg: 'maven' },
  ]);
  const version = run('java', ['-version']);
  const major = Number(/version "(\d+)/.exec(version)?.[1]);
  if (!(major >= 17)) {
    throw new StackPrerequisiteError(`the stack needs Java 17 or newer on the PATH; found: ${version.split('\n')[0]}`);
  }
}

/** PostgreSQL server binaries, installing Debian's `postgresql` when none are present. */
export function postgresBinDir(): string {
  const find = (): string | undefined => {
    const root = '/usr/lib/postgresql';
    if (!fs.existsSync(root)) return undefined;
    const majors = fs
      .readdirSync(root)
      .filter((v) => fs.existsSync(path.join(root, v, 'bin', 'pg_ctl')))
      .sort((a, b) => Number(b) - Number(a));
    return majors[0] === undefined ? undefined : path.join(root, majors[0], 'bin');
  };
  const found = find();
  if (found) return found;
  ensureDebianPackages([{ command: 'pg_ctlcluster', pkg: 'postgresql' }]);
  const installed = find();
  if (!installed) throw new StackPrerequisiteError('PostgreSQL server binaries not found under /usr/lib/postgresql');
  return installed;
}

/** The digest of the poms: the stamp of a folder whose artifacts are resolved from them. */
export function jvmArtifactsDigest(): string {
  const digest = createHash('sha256');
  for (const file of POM_FILES) digest.update(fs.readFileSync(path.join(POM_DIR, file)));
  return digest.digest('hex');
}

/**
 * Resolves the JVM artifacts into `stackDir` (the stack's artifacts folder, which several stack
 * folders may share), once per pom content: a warm start does not run Maven at all.
 */
export function resolveJvmArtifacts(stackDir: string, log: (line: string) => void): void {
  const stamp = path.join(stackDir, 'jvm-artifacts.sha256');
  const want = jvmArtifactsDigest();
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8').trim() === want) return;

  log('resolving Kafka, Debezium and Apicurio from Maven Central (first run only)...');
  for (const sub of ['lib', 'plugins', 'apicurio', 'markers']) {
    fs.rmSync(path.join(stackDir, sub), { recursive: true, force: true });
  }
  run('mvn', ['-B', '-q', '-f', path.join(POM_DIR, 'pom.xml'), 'generate-resources', `-Dstack.dir=${stackDir}`]);
  fs.writeFileSync(stamp, `${want}\n`);
}
