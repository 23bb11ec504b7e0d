import { commitAll, initRepo, record, useCapturedOutput, useTempFolders, writeFiles } from '../cli-fixtures.test-support';
import { run } from '../program';
import { parseAvro } from './avro-tree';
import { diffSchemas } from './diff';

const diff = (before: object, after: object) => diffSchemas(parseAvro(JSON.stringify(before)), parseAvro(JSON.stringify(after)));

const address = (fields: object[]) => ({ type: 'record', name: 'Address', fields });
const status = (symbols: string[], extra: object = {}) => ({ type: 'enum', name: 'Status', symbols, ...extra });

describe('schema diff', () => {
  it('names fields added (with their default), removed and retyped, by path', () => {
    const before = record('Order', [
      { name: 'id', type: 'string' },
      { name: 'amount', type: 'int' },
      { name: 'note', type: 'string' },
    ]);
    const after = record('Order', [
      { name: 'id', type: 'string' },
      { name: 'amount', type: 'long' },
      { name: 'currency', type: 'string', default: 'EUR' },
      { name: 'channel', type: ['null', 'string'] },
    ]);
    expect(diff(before, after)).toEqual([
      { path: 'amount', change: 'changed', detail: 'int → long' },
      { path: 'currency', change: 'added', detail: 'string, default "EUR"' },
      { path: 'channel', change: 'added', detail: 'null | string, no default' },
      { path: 'note', change: 'removed', detail: 'string' },
    ]);
  });

  it('walks nested records, arrays, maps and unions, and reports defaults, docs, enums and logical types', () => {
    const before = record('Order', [
      { name: 'ship', type: address([{ name: 'city', type: 'string' }]) },
      { name: 'lines', type: { type: 'array', items: record('Line', [{ name: 'sku', type: 'string' }]) } },
      { name: 'tags', type: { type: 'map', values: 'int' } },
      { name: 'status', type: status(['NEW', 'PAID', 'LOST']) },
      { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
      { name: 'bill', type: ['null', 'Address'], default: null },
      { name: 'priority', type: 'int', default: 0, doc: 'old' },
    ]);
    const after = record('Order', [
      { name: 'ship', type: address([{ name: 'city', type: 'string' }, { name: 'zip', type: 'string', default: '' }]) },
      { name: 'lines', type: { type: 'array', items: record('Line', [{ name: 'sku', type: 'string' }, { name: 'qty', type: 'int', default: 1 }]) } },
      { name: 'tags', type: { type: 'map', values: 'long' } },
      { name: 'status', type: status(['NEW', 'PAID', 'SHIPPED'], { default: 'NEW' }) },
      { name: 'at', type: { type: 'long', logicalType: 'timestamp-micros' } },
      { name: 'bill', type: ['null', 'Address', 'string'], default: null },
      { name: 'priority', type: 'int', default: 1, doc: 'new' },
    ]);
    expect(diff(before, after)).toEqual([
      { path: 'ship.zip', change: 'added', detail: 'string, default ""' },
      { path: 'lines[].qty', change: 'added', detail: 'int, default 1' },
      { path: 'tags{}', change: 'changed', detail: 'int → long' },
      { path: 'status', change: 'changed', detail: 'symbols added: SHIPPED' },
      { path: 'status', change: 'changed', detail: 'symbols removed: LOST' },
      { path: 'status', change: 'changed', detail: 'default symbol none → NEW' },
      { path: 'at', change: 'changed', detail: 'long (timestamp-millis) → long (timestamp-micros)' },
      // Address was compared under `ship` already; a later reference adds nothing.
      { path: 'bill', change: 'changed', detail: 'union branch added: string' },
      { path: 'priority', change: 'changed', detail: 'default 0 → 1' },
      { path: 'priority', change: 'changed', detail: 'doc changed' },
    ]);
  });

  it('sees a rename through an alias, a renamed record, and no change at all', () => {
    const before = record('Order', [{ name: 'total', type: 'long' }]);
    const renamed = { ...record('Order2', [{ name: 'amount', type: 'long', aliases: ['total'] }]), aliases: ['com.example.test.Order'] };
    expect(diff(before, renamed)).toEqual([
      { path: '', change: 'changed', detail: 'record renamed com.example.test.Order → com.example.test.Order2' },
      { path: 'amount', change: 'changed', detail: 'renamed from total (alias)' },
    ]);
    expect(diff(before, before)).toEqual([]);
    expect(diff(before, { type: 'array', items: 'string' })).toEqual([{ path: '', change: 'changed', detail: 'record com.example.test.Order → array<string>' }]);
  });

  it('ends on recursive types', () => {
    const node = (extra: object[]) => record('Node', [{ name: 'next', type: ['null', 'Node'], default: null }, ...extra]);
    expect(diff(node([]), node([{ name: 'v', type: 'int', default: 0 }]))).toEqual([{ path: 'v', change: 'added', detail: 'int, default 0' }]);
  });
});

describe('evkit schemas diff --against-git', () => {
  const output = useCapturedOutput();
  const tempFolder = useTempFolders();

  it('prints the changes against the latest version in git, in human form and as JSON', async () => {
    const repo = tempFolder();
    initRepo(repo);
    writeFiles(repo, { 'schemas/placed.avsc': record('OrderPlaced', [{ name: 'id', type: 'string' }]) });
    commitAll(repo, 'v1');
    writeFiles(repo, { 'schemas/placed.avsc': record('OrderPlaced', [{ name: 'id', type: 'string' }, { name: 'currency', type: 'string', default: 'EUR' }]) });
    const sha = commitAll(repo, 'v2');
    writeFiles(repo, {
      'schemas/placed.avsc': record('OrderPlaced', [{ name: 'id', type: 'long' }, { name: 'currency', type: 'string', default: 'EUR' }]),
      'schemas/cancelled.avsc': record('OrderCancelled', [{ name: 'id', type: 'string' }]),
    });
    const dir = `${repo}/schemas`;
    expect(await run(['schemas', 'diff', '--dir', dir, '--strategy', 'record', '--against-git', 'HEAD'])).toBe(0);
    const lines = output.stdout.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/cancelled.avsc -> com.example.test.OrderCancelled: new, no earlier version$/) as unknown,
      expect.stringMatching(new RegExp(`placed.avsc -> com.example.test.OrderPlaced: 1 change\\(s\\) against v2 \\(${sha}\\)$`)) as unknown,
      '  ~ id: string → long',
    ]);
    output.clear();
    expect(await run(['schemas', 'diff', '--dir', dir, '--strategy', 'record', '--against-git', 'HEAD', '--json'])).toBe(0);
    const { results } = JSON.parse(output.stdout) as { results: { status: string; against?: object; changes: object[] }[] };
    expect(results[1]).toMatchObject({ status: 'changed', against: { version: 2, commit: sha }, changes: [{ path: 'id', change: 'changed' }] });
  });
});
