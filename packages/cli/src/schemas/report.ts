import * as path from 'node:path';
import { isFinding, versionLabel, type SchemaCheckResult } from './check';

/** `file -> subject`, or the file alone when it has none (`--against-git` needs no mapping). */
export function fileLabel(file: string, subject: string | undefined): string {
  return subject === undefined ? file : `${file} -> ${subject}`;
}

/** Human lines for one check result: a verdict line, then one line per reason. */
export function checkLines(result: SchemaCheckResult): string[] {
  const head = fileLabel(result.file, result.subject);
  if (result.status === 'invalid') return [`FAIL ${head}: ${result.error}`];
  const level = result.level ? ` at ${result.level.level}${result.level.source === 'flag' ? ' (--level)' : ''}` : '';
  const lines: string[] = [];
  if (result.status === 'incompatible') {
    lines.push(`FAIL ${head}: incompatible${level} with ${result.broken.map(versionLabel).join(', ')}`);
    for (const broken of result.broken) {
      for (const v of broken.violations) lines.push(`     ${versionLabel(broken)}, ${v.direction}: ${v.path}: ${v.reason}`);
    }
  } else if (result.status === 'new') {
    lines.push(`${isFinding(result) ? 'FAIL' : 'ok  '} ${head}: new, no earlier version`);
  } else {
    const checked = result.checked.map(versionLabel).join(', ') || 'nothing';
    lines.push(`${isFinding(result) ? 'FAIL' : 'ok  '} ${head}: compatible${level} with ${checked}`);
  }
  if (result.level?.tooWeak !== undefined) lines.push(`     ${tooWeakMessage(result)}`);
  for (const skipped of result.skipped) lines.push(`     skipped ${versionLabel(skipped)}: ${skipped.reason}`);
  return lines;
}

function tooWeakMessage(result: SchemaCheckResult): string {
  return (
    `subject '${result.subject}' is at ${result.level?.tooWeak}, weaker than ${result.level?.level}: producers refuse to publish to it ` +
    `(EVKIT_CODEC_COMPATIBILITY_TOO_WEAK); raise it, or choose the level with --level`
  );
}

/** What a finding says in one message (for annotations and the JSON `message`). */
export function findingMessage(result: SchemaCheckResult): string {
  if (result.status === 'invalid') return result.error ?? 'invalid';
  const parts: string[] = [];
  if (result.status === 'incompatible') {
    parts.push(`incompatible at ${result.level?.level} with ${result.broken.map(versionLabel).join(', ')}:`);
    for (const broken of result.broken) {
      for (const v of broken.violations) parts.push(`${versionLabel(broken)} (${v.direction}) ${v.path}: ${v.reason}`);
    }
  }
  if (result.level?.tooWeak !== undefined) parts.push(tooWeakMessage(result));
  return parts.join('\n');
}

/**
 * A GitHub Actions error annotation (a workflow command on stdout), escaped as the Actions toolkit
 * does: data escapes %, CR and LF; properties also `:` and `,`. `file` is relative to the
 * workspace (the repository root), where GitHub looks for it.
 */
export function githubAnnotation(file: string, title: string, message: string, env: NodeJS.ProcessEnv = process.env): string {
  const workspace = env.GITHUB_WORKSPACE;
  const relative = workspace ? path.relative(workspace, path.resolve(file)).split(path.sep).join('/') : file;
  return `::error file=${escapeProperty(relative)},title=${escapeProperty(title)}::${escapeData(message)}`;
}

function escapeData(value: string): string {
  return value.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function escapeProperty(value: string): string {
  return escapeData(value).replace(/:/g, '%3A').replace(/,/g, '%2C');
}
