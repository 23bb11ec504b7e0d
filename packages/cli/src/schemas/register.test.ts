import { createInMemoryRegistry } from '@evkit/codec';
import { record, useTempFolders, writeFiles } from '../cli-fixtures.test-support';
import { registerSchemas } from './register';
import { loadSchemaFiles, withSubjects } from './schema-files';

const v1 = record('OrderPlaced', [{ name: 'orderId', type: 'string' }]);
const v2 = record('OrderPlaced', [{ name: 'orderId', type: 'string' }, { name: 'currency', type: 'string', default: 'EUR' }]);
const breaking = record('OrderPlaced', [{ name: 'orderId', type: 'long' }]);

describe('registering schemas (in-memory registry)', () => {
  const tempFolder = useTempFolders();
  // The default subject naming, as the codec's: topic-record.
  const subject = 'orders-com.example.test.OrderPlaced';

  const files = (placed: object | string, extra: Record<string, unknown> = {}) => {
    const dir = tempFolder();
    const entries = Object.fromEntries(Object.keys(extra).map((file) => [file, { topic: 'others' }]));
    writeFiles(dir, { 'placed.avsc': placed, 'subjects.json': { schemas: { 'placed.avsc': { topic: 'orders' }, ...entries } }, ...extra });
    return withSubjects(loadSchemaFiles({ dir, cwd: dir }));
  };

  it('registers the minified JSON, sets the required level on a new subject, and is idempotent', async () => {
    const registry = createInMemoryRegistry({ globalCompatibility: 'NONE' });
    expect(await registerSchemas(files(v1), registry, 'BACKWARD_TRANSITIVE')).toEqual([
      { file: 'placed.avsc', subject, status: 'registered', id: 1, version: 1 },
    ]);
    expect(await registry.schemaAt(subject, 1)).toBe(JSON.stringify(v1));
    expect(await registry.subjectCompatibility(subject)).toBe('BACKWARD_TRANSITIVE');
    expect(await registerSchemas(files(v1), registry, 'BACKWARD_TRANSITIVE')).toEqual([
      { file: 'placed.avsc', subject, status: 'unchanged', id: 1, version: 1 },
    ]);
    expect(await registerSchemas(files(v2), registry, 'BACKWARD_TRANSITIVE')).toEqual([
      { file: 'placed.avsc', subject, status: 'registered', id: 2, version: 2 },
    ]);
    // Re-registering the older schema finds its version, not the latest.
    expect((await registerSchemas(files(v1), registry, 'BACKWARD_TRANSITIVE'))[0]).toMatchObject({ status: 'unchanged', id: 1, version: 1 });
    expect(registry.calls.register).toBe(2);
  });

  it("refuses what the producer's enforcement refuses, and an invalid file, and registers the rest", async () => {
    const registry = createInMemoryRegistry();
    await registerSchemas(files(v1), registry, 'BACKWARD_TRANSITIVE');
    const results = await registerSchemas(files(breaking, { 'other.avsc': '{"type": "fixed"}' }), registry, 'BACKWARD_TRANSITIVE');
    expect(results).toEqual([
      { file: 'other.avsc', subject: undefined, status: 'invalid', error: expect.stringMatching(/^not a valid Avro schema/) as unknown },
      {
        file: 'placed.avsc',
        subject,
        status: 'refused',
        error: expect.stringMatching(/^EVKIT_CODEC_INCOMPATIBLE_SCHEMA: .*version 1 \(\/fields\/orderId: type changed from string to long/) as unknown,
      },
    ]);
  });

  it('refuses a subject weaker than the required level', async () => {
    const registry = createInMemoryRegistry();
    await registry.setSubjectCompatibility(subject, 'BACKWARD');
    const [result] = await registerSchemas(files(v1), registry, 'BACKWARD_TRANSITIVE');
    expect(result).toMatchObject({ status: 'refused', error: expect.stringMatching(/^EVKIT_CODEC_COMPATIBILITY_TOO_WEAK: subject 'orders-com.example.test.OrderPlaced' is at BACKWARD/) as unknown });
    expect((await registerSchemas(files(v1), registry, 'BACKWARD'))[0]).toMatchObject({ status: 'registered' });
  });
});
