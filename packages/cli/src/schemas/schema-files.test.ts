import { record, useTempFolders, writeFiles } from '../cli-fixtures.test-support';
import { CliUsageError } from '../exit-codes';
import { loadSchemaFiles, withSubjects, type NamingStrategy } from './schema-files';

const placed = record('OrderPlaced', [{ name: 'orderId', type: 'string' }]);
const cancelled = record('OrderCancelled', [{ name: 'orderId', type: 'string' }]);

describe('schema files and their subjects', () => {
  const tempFolder = useTempFolders();

  const folder = (files: Record<string, unknown>) => {
    const dir = tempFolder();
    writeFiles(dir, files);
    return dir;
  };
  const subjects = (dir: string, strategy?: NamingStrategy, mapping?: string) =>
    withSubjects(loadSchemaFiles({ dir, mapping, cwd: dir }), strategy).map((f) => [f.key, f.subject]);

  it('finds .avsc files recursively in path order, named relative to the working directory', () => {
    const dir = folder({ 'schemas/b/placed.avsc': placed, 'schemas/a/cancelled.avsc': cancelled, 'schemas/notes.md': '# not a schema' });
    const { files, mapping } = loadSchemaFiles({ dir: 'schemas', cwd: dir });
    expect(files.map((f) => [f.key, f.display])).toEqual([
      ['a/cancelled.avsc', 'schemas/a/cancelled.avsc'],
      ['b/placed.avsc', 'schemas/b/placed.avsc'],
    ]);
    expect(mapping.file).toBeUndefined();
  });

  it('maps files to subjects with each strategy, the mapping file giving topics, subjects and the default strategy', () => {
    const dir = folder({
      'orders/placed.avsc': placed,
      'orders/cancelled.avsc': cancelled,
      'subjects.json': {
        strategy: 'topic-record',
        schemas: { 'orders/placed.avsc': { topic: 'orders' }, './orders/cancelled.avsc': { topic: 'orders', subject: 'cancellations' } },
      },
    });
    expect(subjects(dir)).toEqual([
      ['orders/cancelled.avsc', 'cancellations'],
      ['orders/placed.avsc', 'orders-com.example.test.OrderPlaced'],
    ]);
    expect(subjects(dir, 'topic')).toEqual([
      ['orders/cancelled.avsc', 'cancellations'],
      ['orders/placed.avsc', 'orders-value'],
    ]);
    expect(subjects(dir, 'record')).toEqual([
      ['orders/cancelled.avsc', 'cancellations'],
      ['orders/placed.avsc', 'com.example.test.OrderPlaced'],
    ]);
  });

  it('needs no mapping file for the record strategy, and says what to do when a topic strategy lacks a topic', () => {
    const dir = folder({ 'placed.avsc': placed });
    expect(subjects(dir, 'record')).toEqual([['placed.avsc', 'com.example.test.OrderPlaced']]);
    expect(() => subjects(dir)).toThrow(/placed.avsc: the topic-record naming strategy needs its topic.*or use --strategy record/);
    expect(() => subjects(dir, 'topic')).toThrow(CliUsageError);
  });

  it('leaves a file without a subject when subjects are optional (--against-git), and still refuses a broken mapping', () => {
    const dir = folder({ 'placed.avsc': placed, 'orders/cancelled.avsc': cancelled, 'subjects.json': { schemas: { 'orders/cancelled.avsc': { topic: 'orders' } } } });
    expect(withSubjects(loadSchemaFiles({ dir, cwd: dir }), undefined, 'optional').map((f) => [f.key, f.subject])).toEqual([
      ['orders/cancelled.avsc', 'orders-com.example.test.OrderCancelled'],
      ['placed.avsc', undefined],
    ]);
    const bare = folder({ 'placed.avsc': '"string"' });
    expect(withSubjects(loadSchemaFiles({ dir: bare, cwd: bare }), 'record', 'optional')[0]?.subject).toBeUndefined();
    expect(() => withSubjects(loadSchemaFiles({ dir: bare, cwd: bare }), 'record')).toThrow(/has no name for the record naming strategy/);
  });

  it('keeps an invalid schema as a file with its error, and a subject when the strategy does not need its name', () => {
    const dir = folder({ 'broken.avsc': '{"type": "record", "name": "Broken"', 'subjects.json': { schemas: { 'broken.avsc': { topic: 't' } } } });
    const [file] = withSubjects(loadSchemaFiles({ dir, cwd: dir }), 'topic');
    expect(file).toMatchObject({ key: 'broken.avsc', subject: 't-value', parsed: { error: expect.stringMatching(/^not JSON/) as unknown } });
    expect(withSubjects(loadSchemaFiles({ dir, cwd: dir }), 'record')[0]?.subject).toBeUndefined();
    expect(withSubjects(loadSchemaFiles({ dir, cwd: dir }))[0]?.subject).toBeUndefined();
  });

  it.each([
    ['not JSON', '{', /not JSON/],
    ['an unknown top-level key', { strategy: 'topic', schemas: {}, topics: {} }, /unknown key\(s\) topics/],
    ['an unknown strategy', { strategy: 'TopicNameStrategy', schemas: {} }, /"strategy" must be one of topic, record, topic-record/],
    ['an entry with a typo', { schemas: { 'placed.avsc': { topc: 'orders' } } }, /schemas\["placed.avsc"\] has unknown key\(s\) topc/],
    ['an empty topic', { schemas: { 'placed.avsc': { topic: '' } } }, /"topic" must be a non-empty string/],
    ['a file that does not exist', { schemas: { 'gone.avsc': { topic: 'orders' } } }, /no such .avsc file under .*: gone.avsc/],
  ])('refuses a mapping file with %s', (_what, mapping, message) => {
    const dir = folder({ 'placed.avsc': placed, 'subjects.json': mapping });
    expect(() => loadSchemaFiles({ dir, cwd: dir })).toThrow(message);
  });

  it('refuses a missing folder, a folder without schemas, and a --mapping file that does not exist', () => {
    const dir = folder({ 'placed.avsc': placed });
    expect(() => loadSchemaFiles({ dir: 'nope', cwd: dir })).toThrow('--dir nope is not a folder');
    expect(() => loadSchemaFiles({ dir: folder({ 'a.txt': 'x' }) })).toThrow(/no .avsc files under/);
    expect(() => loadSchemaFiles({ dir, mapping: 'elsewhere.json', cwd: dir })).toThrow(/--mapping .*elsewhere.json: no such file/);
  });
});
