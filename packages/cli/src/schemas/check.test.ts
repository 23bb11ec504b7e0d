import * as path from 'node:path';
import { createInMemoryRegistry } from '@evkit/codec';
import { commitAll, git, initRepo, record, useCapturedOutput, useTempFolders, writeFiles } from '../cli-fixtures.test-support';
import { run } from '../program';
import { checkSchemas, isFinding } from './check';
import { registryHistory } from './history';
import { githubAnnotation } from './report';
import { loadSchemaFiles, withSubjects } from './schema-files';

const id = { name: 'orderId', type: 'string' };
const v1 = record('OrderPlaced', [id]);
const v2 = record('OrderPlaced', [id, { name: 'currency', type: 'string', default: 'EUR' }]);
// Reads v2's data (it has currency) but not v1's: only a transitive check catches it.
const v3Transitive = record('OrderPlaced', [id, { name: 'currency', type: 'string' }]);
// Reads neither: a new field without a default.
const v3Breaking = record('OrderPlaced', [id, { name: 'currency', type: 'string', default: 'EUR' }, { name: 'channel', type: 'string' }]);
const v3Compatible = record('OrderPlaced', [id, { name: 'currency', type: 'string', default: 'EUR' }, { name: 'channel', type: ['null', 'string'], default: null }]);
const mapping = { schemas: { 'orders/placed.avsc': { topic: 'orders' } } };
// The default subject naming, as the codec's: topic-record.
const SUBJECT = 'orders-com.example.test.OrderPlaced';

interface CheckJson {
  against: string;
  compatible: boolean;
  results: {
    file: string;
    subject: string;
    status: string;
    error?: string;
    message?: string;
    level: { level: string; source: string };
    checked: { version: number; commit?: string }[];
    broken: { version: number; commit?: string; violations: { direction: string; path: string; reason: string }[] }[];
  }[];
}

describe('evkit schemas check --against-git', () => {
  const output = useCapturedOutput();
  const tempFolder = useTempFolders();
  const cwd = process.cwd();
  let repo: string;
  let shas: string[];
  const originalEnv = { ...process.env };

  /** A repository whose schemas/orders/placed.avsc went v1, v2 over two commits. */
  beforeEach(() => {
    repo = tempFolder();
    initRepo(repo);
    writeFiles(repo, { 'schemas/orders/placed.avsc': v1, 'schemas/subjects.json': mapping });
    shas = [commitAll(repo, 'v1')];
    writeFiles(repo, { 'schemas/orders/placed.avsc': v2 });
    shas.push(commitAll(repo, 'v2'));
    // As a CI job runs it: from the repository root.
    process.chdir(repo);
    delete process.env.GITHUB_ACTIONS;
    delete process.env.GITHUB_WORKSPACE;
  });
  afterEach(() => {
    process.chdir(cwd);
    process.env = { ...originalEnv };
  });

  const check = async (...args: string[]) => {
    output.clear();
    return run(['schemas', 'check', '--against-git', 'HEAD', ...args]);
  };
  const json = () => JSON.parse(output.stdout) as CheckJson;

  it('fails an incompatible change with the file, the subject, every broken version (short sha) and the reason', async () => {
    writeFiles(repo, { 'schemas/orders/placed.avsc': v3Breaking });
    expect(await check('--json')).toBe(1);
    const result = json();
    expect(result).toMatchObject({ against: 'git history of HEAD', compatible: false });
    expect(result.results).toHaveLength(1);
    const [finding] = result.results;
    expect(finding).toMatchObject({
      file: 'schemas/orders/placed.avsc',
      subject: SUBJECT,
      status: 'incompatible',
      level: { level: 'BACKWARD_TRANSITIVE', source: 'default' },
      checked: [
        { version: 1, commit: shas[0] },
        { version: 2, commit: shas[1] },
      ],
    });
    expect(finding!.broken.map((b) => b.commit)).toEqual(shas);
    expect(finding!.broken[0]!.violations).toEqual([
      { direction: 'backward', path: '/fields/channel', reason: "field 'channel' has no default and is missing from the writer schema (v1)" },
    ]);
    expect(finding!.message).toContain(`v2 (${shas[1]}) (backward) /fields/channel`);
    expect(output.stderr).toContain('EVKIT_CLI_FINDING: 1 of 1 schema(s) failed the compatibility check');
  });

  it('passes a compatible change, checked against every version in the history', async () => {
    writeFiles(repo, { 'schemas/orders/placed.avsc': v3Compatible });
    expect(await check()).toBe(0);
    expect(output.stdout).toBe(
      `ok   schemas/orders/placed.avsc -> ${SUBJECT}: compatible at BACKWARD_TRANSITIVE with v1 (${shas[0]}), v2 (${shas[1]})\n`,
    );
    expect(output.stdout).not.toContain('::error');
  });

  it('needs no subject mapping: each file is checked against its own history, and named by its path', async () => {
    writeFiles(repo, { 'schemas/subjects.json': null });
    shas.push(commitAll(repo, 'no mapping'));
    writeFiles(repo, { 'schemas/orders/placed.avsc': v3Compatible });
    expect(await check()).toBe(0);
    expect(output.stdout).toBe(`ok   schemas/orders/placed.avsc: compatible at BACKWARD_TRANSITIVE with v1 (${shas[0]}), v2 (${shas[1]})\n`);
    writeFiles(repo, { 'schemas/orders/placed.avsc': v3Transitive });
    expect(await check('--json')).toBe(1);
    expect(json().results[0]).toMatchObject({ file: 'schemas/orders/placed.avsc', status: 'incompatible', broken: [{ commit: shas[0] }] });
    expect(json().results[0]).not.toHaveProperty('subject');
    output.clear();
    expect(await run(['schemas', 'diff', '--against-git', 'HEAD'])).toBe(0);
    expect(output.stdout).toContain(`schemas/orders/placed.avsc: 1 change(s) against v2 (${shas[1]})`);
    // The registry commands still need subjects, and say how to get them.
    output.clear();
    expect(await run(['schemas', 'register', '--registry-url', 'http://127.0.0.1:1'])).toBe(2);
    expect(output.stderr).toContain('the topic-record naming strategy needs its topic');
  });

  it('catches what only a transitive check sees, and --level picks another mode', async () => {
    writeFiles(repo, { 'schemas/orders/placed.avsc': v3Transitive });
    expect(await check('--json')).toBe(1);
    expect(json().results[0]!.broken.map((b) => b.commit)).toEqual([shas[0]]);
    expect(await check('--json', '--level', 'BACKWARD')).toBe(0);
    expect(json().results[0]).toMatchObject({ status: 'compatible', level: { level: 'BACKWARD', source: 'flag' }, checked: [{ commit: shas[1] }] });
    expect(await check('--level', 'SIDEWAYS')).toBe(2);
    expect(output.stderr).toContain("Allowed choices are BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE, NONE");
  });

  it('follows a schema through a rename, so its old versions still count', async () => {
    git(repo, 'mv', 'schemas/orders/placed.avsc', 'schemas/orders/order-placed.avsc');
    writeFiles(repo, { 'schemas/subjects.json': { schemas: { 'orders/order-placed.avsc': { topic: 'orders' } } } });
    shas.push(commitAll(repo, 'rename'));
    writeFiles(repo, { 'schemas/orders/order-placed.avsc': v3Transitive });
    expect(await check('--json')).toBe(1);
    const [result] = json().results;
    expect(result!.file).toBe('schemas/orders/order-placed.avsc');
    // The rename commit changed no content, so it is the same schema as v2 under its new path.
    expect(result!.checked.map((c) => c.commit)).toEqual(shas);
    expect(result!.broken.map((b) => b.commit)).toEqual([shas[0]]);
  });

  it('reports an invalid schema as a finding with its reason, and a file new since the ref as compatible', async () => {
    writeFiles(repo, {
      'schemas/orders/placed.avsc': record('OrderPlaced', [{ name: 'orderId', type: 'strin' }]),
      'schemas/orders/refunded.avsc': record('OrderRefunded', [id]),
      'schemas/subjects.json': { schemas: { 'orders/placed.avsc': { topic: 'orders' }, 'orders/refunded.avsc': { topic: 'refunds' } } },
    });
    expect(await check()).toBe(1);
    expect(output.stdout).toContain('FAIL schemas/orders/placed.avsc: not a valid Avro schema: undefined type name: com.example.test.strin');
    expect(output.stdout).toContain('ok   schemas/orders/refunded.avsc -> refunds-com.example.test.OrderRefunded: new, no earlier version');
  });

  it('prints GitHub Actions annotations when GITHUB_ACTIONS=true, with paths relative to the workspace', async () => {
    writeFiles(repo, { 'schemas/orders/placed.avsc': v3Breaking });
    process.env.GITHUB_ACTIONS = 'true';
    process.env.GITHUB_WORKSPACE = path.dirname(repo);
    expect(await check()).toBe(1);
    const annotations = output.stdout.split('\n').filter((line) => line.startsWith('::'));
    expect(annotations).toEqual([
      `::error file=${path.basename(repo)}/schemas/orders/placed.avsc,title=${SUBJECT}::` +
        `incompatible at BACKWARD_TRANSITIVE with v1 (${shas[0]}), v2 (${shas[1]}):` +
        `%0Av1 (${shas[0]}) (backward) /fields/channel: field 'channel' has no default and is missing from the writer schema (v1)` +
        `%0Av2 (${shas[1]}) (backward) /fields/channel: field 'channel' has no default and is missing from the writer schema (v2)`,
    ]);
    // JSON mode keeps stdout parseable, so no annotations there.
    expect(await check('--json')).toBe(1);
    expect(json().compatible).toBe(false);
  });

  it('exits 2 for a ref git does not know, a ref that looks like an option, and a folder outside git', async () => {
    expect(await check('--against-git', 'origin/nope')).toBe(2);
    expect(output.stderr).toContain('--against-git origin/nope names no commit in this repository');
    expect(await run(['schemas', 'check', '--against-git', '--output=/tmp/x'])).toBe(2);
    const outside = tempFolder();
    writeFiles(outside, { 'placed.avsc': v1 });
    output.clear();
    expect(await run(['schemas', 'check', '--dir', outside, '--strategy', 'record', '--against-git', 'HEAD'])).toBe(2);
    expect(output.stderr).toContain('--against-git needs the schemas in a git working tree');
  });
});

describe('GitHub annotations', () => {
  it('escape what would end a property or the message, as the Actions toolkit does', () => {
    expect(githubAnnotation('a,b:c.avsc', 'sub:ject,1', '50% done\r\nnext', {})).toBe('::error file=a%2Cb%3Ac.avsc,title=sub%3Aject%2C1::50%25 done%0D%0Anext');
  });
});

describe('checking against a registry (in memory)', () => {
  const tempFolder = useTempFolders();
  const subject = SUBJECT;

  const filesWith = (schema: object) => {
    const dir = tempFolder();
    writeFiles(dir, { 'orders/placed.avsc': schema, 'subjects.json': mapping });
    return withSubjects(loadSchemaFiles({ dir, cwd: dir }));
  };

  it("uses the subject's level, else BACKWARD_TRANSITIVE, and reports registry version numbers", async () => {
    const registry = createInMemoryRegistry({ globalCompatibility: 'NONE' });
    await registry.register(subject, JSON.stringify(v1), 'NONE');
    await registry.register(subject, JSON.stringify(v2), 'NONE');
    const [byDefault] = await checkSchemas(filesWith(v3Transitive), registryHistory(registry, undefined));
    expect(byDefault).toMatchObject({ status: 'incompatible', level: { level: 'BACKWARD_TRANSITIVE', source: 'default' }, broken: [{ version: 1 }] });
    expect(byDefault!.broken[0]).not.toHaveProperty('commit');

    await registry.setSubjectCompatibility(subject, 'FULL_TRANSITIVE');
    const [stronger] = await checkSchemas(filesWith(v3Compatible), registryHistory(registry, undefined));
    expect(stronger).toMatchObject({ status: 'compatible', level: { level: 'FULL_TRANSITIVE', source: 'subject' }, checked: [{ version: 1 }, { version: 2 }] });
    expect(isFinding(stronger!)).toBe(false);
  });

  it('reports a subject weaker than BACKWARD_TRANSITIVE as a finding and checks at BACKWARD_TRANSITIVE; --level overrides both', async () => {
    const registry = createInMemoryRegistry();
    await registry.setSubjectCompatibility(subject, 'NONE');
    await registry.register(subject, JSON.stringify(v1), 'NONE');
    const [weak] = await checkSchemas(filesWith(v2), registryHistory(registry, undefined));
    expect(weak).toMatchObject({ status: 'compatible', level: { level: 'BACKWARD_TRANSITIVE', source: 'subject', tooWeak: 'NONE' } });
    expect(isFinding(weak!)).toBe(true);
    const [chosen] = await checkSchemas(filesWith(v3Breaking), registryHistory(registry, 'NONE'));
    expect(chosen).toMatchObject({ status: 'compatible', level: { level: 'NONE', source: 'flag' } });
    expect(isFinding(chosen!)).toBe(false);
  });

  it('is new for a subject without versions', async () => {
    const [result] = await checkSchemas(filesWith(v1), registryHistory(createInMemoryRegistry(), undefined));
    expect(result).toMatchObject({ status: 'new', checked: [], broken: [] });
  });
});
