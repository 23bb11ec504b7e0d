import * as path from 'node:path';
import { Command, Option } from 'commander';
import { COMPATIBILITY_LEVELS, createRegistryClient, SUBJECT_NAME_STRATEGIES, type CompatibilityLevel } from '@evkit/codec';
import { registryOptions, type Output } from '../context';
import { CliFindingError } from '../exit-codes';
import { messageOf, parseAvro, type ParsedSchema } from '../schemas/avro-tree';
import { checkSchemas, isFinding, versionLabel, type VersionRef } from '../schemas/check';
import { diffSchemas, type SchemaChange } from '../schemas/diff';
import { verifyGitRef } from '../schemas/git';
import { gitHistory, registryHistory, REQUIRED_LEVEL, type SchemaHistory } from '../schemas/history';
import { registerSchemas } from '../schemas/register';
import { checkLines, fileLabel, findingMessage, githubAnnotation } from '../schemas/report';
import { isValid, loadSchemaFiles, schemaError, withSubjects, type NamingStrategy, type SubjectFile } from '../schemas/schema-files';

interface SchemaFlags {
  dir: string;
  mapping?: string;
  strategy?: NamingStrategy;
  json?: boolean;
  registryUrl?: string;
}

interface HistoryFlags extends SchemaFlags {
  againstGit?: string;
  level?: CompatibilityLevel;
}

/** A finding as CI shows it: an annotation on the file when running in GitHub Actions. */
interface Finding {
  file: string;
  title: string;
  message: string;
}

function withSchemaOptions(command: Command): Command {
  return command
    .option('--dir <path>', 'the schema folder', 'schemas')
    .option('--mapping <file>', 'the mapping file (default: <dir>/subjects.json when it exists)')
    .addOption(
      new Option('--strategy <name>', "subject naming when the mapping gives no subject (default: the mapping's strategy, else topic-record, as the codec)").choices(
        SUBJECT_NAME_STRATEGIES,
      ),
    )
    .option('--registry-url <url>', 'schema registry (default: $EVKIT_REGISTRY_URL, else the local stack); credentials only from the environment')
    .option('--json', 'machine-readable output');
}

const againstGitOption = () =>
  new Option('--against-git <ref>', 'offline: compare with the versions of each file in the git history reachable from <ref>; no registry, no subject mapping needed').conflicts(
    'registryUrl',
  );

/** In git mode each file is compared with its own history, so subjects only label the output. */
function subjectFiles(flags: SchemaFlags & { againstGit?: string }): SubjectFile[] {
  return withSubjects(loadSchemaFiles(flags), flags.strategy, flags.againstGit === undefined ? 'required' : 'optional');
}

async function historyFrom(flags: HistoryFlags): Promise<SchemaHistory> {
  if (flags.againstGit === undefined) return registryHistory(createRegistryClient(registryOptions(flags)), flags.level);
  await verifyGitRef(path.resolve(flags.dir), flags.againstGit);
  return gitHistory(flags.againstGit, flags.level);
}

/** Fails the command with exit 1 when there are findings, after annotating them for GitHub Actions. */
function concludeWith(out: Output, findings: readonly Finding[], total: number, what: string): void {
  // Workflow commands go to stdout, where GitHub reads them; in --json mode stdout is the JSON.
  if (process.env.GITHUB_ACTIONS === 'true' && !out.json) {
    for (const finding of findings) out.out(githubAnnotation(finding.file, finding.title, finding.message));
  }
  if (findings.length > 0) throw new CliFindingError(`${findings.length} of ${total} schema(s) ${what}`);
}

export function schemasCommand(output: (json: boolean) => Output): Command {
  const schemas = new Command('schemas').description('check, register and diff the Avro contracts (.avsc files mapped to registry subjects)');

  withSchemaOptions(schemas.command('check'))
    .description("check each schema against every version its subject's compatibility covers: the CI step (exit 1 on a finding)")
    .addOption(againstGitOption())
    .addOption(
      new Option('--level <mode>', "compatibility to check at (default: the subject's, else BACKWARD_TRANSITIVE; in git mode BACKWARD_TRANSITIVE)").choices(
        COMPATIBILITY_LEVELS,
      ),
    )
    .action(async (flags: HistoryFlags) => {
      const out = output(flags.json ?? false);
      const files = subjectFiles(flags);
      const history = await historyFrom(flags);
      const results = await checkSchemas(files, history);
      const findings = results.filter(isFinding);
      if (out.json) {
        const annotated = results.map((r) => (isFinding(r) ? { ...r, message: findingMessage(r) } : r));
        out.out(JSON.stringify({ against: history.origin, compatible: findings.length === 0, results: annotated }, null, 2));
      } else {
        for (const result of results) for (const line of checkLines(result)) out.out(line);
        out.err(`${results.length} schema(s) checked against the ${history.origin}: ${findings.length} finding(s)`);
      }
      const annotations = findings.map((f) => ({ file: f.file, title: f.subject ?? f.file, message: findingMessage(f) }));
      concludeWith(out, annotations, results.length, 'failed the compatibility check');
    });

  withSchemaOptions(schemas.command('register'))
    .description("register each schema under its subject after the producer's enforcement (the deploy step); idempotent")
    .addOption(
      new Option('--level <mode>', 'the compatibility every subject must have; set on subjects that have none').choices(COMPATIBILITY_LEVELS).default(REQUIRED_LEVEL),
    )
    .action(async (flags: SchemaFlags & { level: CompatibilityLevel }) => {
      const out = output(flags.json ?? false);
      const files = subjectFiles(flags);
      const registry = createRegistryClient(registryOptions(flags));
      const results = await registerSchemas(files, registry, flags.level);
      if (out.json) out.out(JSON.stringify({ registry: registry.displayUrl, results }, null, 2));
      else {
        for (const r of results) {
          const head = fileLabel(r.file, r.subject);
          if (r.id !== undefined) out.out(`${r.status.padEnd(10)} ${head}: id ${r.id}, version ${r.version ?? '?'}`);
          else out.out(`${r.status.toUpperCase().padEnd(10)} ${head}: ${r.error}`);
        }
      }
      const failed = results.filter((r) => r.id === undefined);
      concludeWith(out, failed.map((r) => ({ file: r.file, title: r.subject ?? r.file, message: r.error ?? r.status })), results.length, 'could not be registered');
    });

  withSchemaOptions(schemas.command('diff'))
    .description('what changed in each schema against its latest registered version (or its latest version in git)')
    .addOption(againstGitOption())
    .action(async (flags: HistoryFlags) => {
      const out = output(flags.json ?? false);
      const files = subjectFiles(flags);
      const history = await historyFrom(flags);
      const results = await Promise.all(files.map((file) => diffOne(file, history)));
      if (out.json) out.out(JSON.stringify({ against: history.origin, results }, null, 2));
      else for (const result of results) for (const line of diffLines(result)) out.out(line);
      const invalid = results.filter((r) => r.status === 'invalid');
      concludeWith(out, invalid.map((r) => ({ file: r.file, title: r.subject ?? r.file, message: r.error ?? 'invalid' })), results.length, 'could not be read');
    });

  return schemas;
}

interface DiffResult {
  file: string;
  subject: string | undefined;
  status: 'new' | 'unchanged' | 'changed' | 'invalid';
  against?: VersionRef;
  changes: SchemaChange[];
  error?: string;
}

async function diffOne(file: SubjectFile, history: SchemaHistory): Promise<DiffResult> {
  const base = { file: file.display, subject: file.subject, changes: [] };
  if (!isValid(file)) return { ...base, status: 'invalid', error: schemaError(file) };
  const [latest] = await history.versionsOf(file, 'latest');
  if (latest === undefined) return { ...base, status: 'new' };
  const against: VersionRef = latest.commit === undefined ? { version: latest.version } : { version: latest.version, commit: latest.commit };
  let before: ParsedSchema;
  try {
    before = parseAvro(latest.schema);
  } catch (error) {
    return { ...base, status: 'invalid', against, error: `${versionLabel(against)} cannot be read: ${messageOf(error)}` };
  }
  const changes = diffSchemas(before, file.parsed);
  return { ...base, status: changes.length === 0 ? 'unchanged' : 'changed', against, changes };
}

const MARKS: Readonly<Record<SchemaChange['change'], string>> = { added: '+', removed: '-', changed: '~' };

function diffLines(result: DiffResult): string[] {
  const head = fileLabel(result.file, result.subject);
  const against = result.against === undefined ? '' : ` against ${versionLabel(result.against)}`;
  switch (result.status) {
    case 'invalid':
      return [`INVALID ${head}: ${result.error}`];
    case 'new':
      return [`${head}: new, no earlier version`];
    case 'unchanged':
      return [`${head}: unchanged${against}`];
    case 'changed':
      return [
        `${head}: ${result.changes.length} change(s)${against}`,
        ...result.changes.map((c) => `  ${MARKS[c.change]} ${c.path || '(top level)'}: ${c.detail}`),
      ];
  }
}
