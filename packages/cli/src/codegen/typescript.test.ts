import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import { createAvroCodec, createInMemoryRegistry } from '@evkit/codec';
import { createEvent } from '@evkit/envelope';
import { useCapturedOutput, useTempFolders, writeFiles } from '../cli-fixtures.test-support';
import { CliFindingError } from '../exit-codes';
import { run } from '../program';
import { isValid, loadSchemaFiles } from '../schemas/schema-files';
import { generateTypeScript } from './typescript';

const root = path.resolve(__dirname, '../../../..');
const projectSchemas = path.join(root, 'schemas');

/** Types generated for a folder, as the command would (files sorted, all valid). */
function generate(dir: string, source = 'schemas'): string {
  const { files } = loadSchemaFiles({ dir, cwd: dir });
  return generateTypeScript(files.filter(isValid), { source });
}

/**
 * Type-checks files (name -> source) in one program, strict, with @types/node (for Buffer), and
 * returns the diagnostics per file name.
 */
function typeCheck(dir: string, files: Readonly<Record<string, string>>): Record<string, string[]> {
  writeFiles(dir, files);
  const program = ts.createProgram(
    Object.keys(files).map((name) => path.join(dir, name)),
    {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      types: ['node'],
      typeRoots: [path.join(root, 'node_modules/@types')],
    },
  );
  const byFile: Record<string, string[]> = Object.fromEntries(Object.keys(files).map((name) => [name, []]));
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const name = diagnostic.file ? path.relative(dir, diagnostic.file.fileName) : '(global)';
    (byFile[name] ??= []).push(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
  }
  return byFile;
}

// Everything codegen has to get right, in one record and one unnamed top-level schema.
const address = (namespace: string) => ({
  type: 'record',
  name: 'Address',
  namespace,
  fields: [{ name: 'city', type: 'string' }],
});
const kitchenSink = {
  type: 'record',
  name: 'KitchenSink',
  namespace: 'com.example.tricky',
  doc: 'Every shape.\nA doc that tries to end the comment: */ and goes on.',
  fields: [
    { name: 'id', type: { type: 'string', logicalType: 'uuid' } },
    { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' }, doc: 'When.' },
    { name: 'day', type: { type: 'int', logicalType: 'date' } },
    { name: 'price', type: { type: 'bytes', logicalType: 'decimal', precision: 9, scale: 2 } },
    { name: 'digest', type: { type: 'fixed', name: 'Md5', size: 2 } },
    { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['ACTIVE', 'RETIRED'] } },
    { name: 'note', type: ['null', 'string'], default: null },
    { name: 'mixed', type: ['int', 'string'] },
    { name: 'count', type: ['null', 'int', 'long'], default: null },
    {
      name: 'party',
      type: [
        { type: 'record', name: 'Person', fields: [{ name: 'name', type: 'string' }] },
        { type: 'record', name: 'Company', fields: [{ name: 'name', type: 'string' }, { name: 'vat', type: 'string' }] },
      ],
    },
    { name: 'tags', type: { type: 'array', items: ['null', 'string'] } },
    { name: 'scores', type: { type: 'map', values: { type: 'array', items: 'double' } } },
    { name: 'home', type: address('com.example.tricky') },
    { name: 'work', type: 'Address' },
    { name: 'billing', type: address('com.example.billing') },
    { name: 'box', type: { type: 'record', name: 'Buffer', fields: [{ name: 'size', type: 'int', default: 0 }] } },
    { name: 'next', type: ['null', 'KitchenSink'], default: null },
  ],
};
const trickyMapping = { schemas: { 'kitchen-sink.avsc': { topic: 't', eventType: 'dev.evkit.test.sink' }, 'ids.avsc': { topic: 'ids' } } };

/** A value for kitchenSink as a producer passes it (wrapped where avsc wraps). */
const sample = (next: object | null): object => ({
  id: '0191e1e8-0000-7000-8000-000000000000',
  at: 1_767_225_600_000,
  day: 20_454,
  price: Buffer.from([0x01, 0x00]),
  digest: Buffer.from([0xab, 0xcd]),
  status: 'RETIRED',
  note: null,
  mixed: 'seven',
  count: { long: 7 },
  party: { 'com.example.tricky.Company': { name: 'ACME', vat: 'DE1' } },
  tags: ['a', null],
  scores: { x: [1.5, 2] },
  home: { city: 'Berlin' },
  work: { city: 'Hamburg' },
  billing: { city: 'Bonn' },
  box: { size: 3 },
  next,
});

/** A decoded value as TypeScript source: what the codec returned, Buffers included. */
function literal(value: unknown): string {
  if (Buffer.isBuffer(value)) return `Buffer.from([${[...value].join(', ')}])`;
  if (Array.isArray(value)) return `[${value.map(literal).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{ ${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${literal(v)}`).join(', ')} }`;
  }
  return JSON.stringify(value);
}

describe('evkit codegen', () => {
  const tempFolder = useTempFolders();
  const output = useCapturedOutput();

  it("generates types for the project's schemas that compile and hold publishers and handlers to the contract", () => {
    const dir = tempFolder();
    const diagnostics = typeCheck(dir, {
      'events.ts': generate(projectSchemas),
      'good.ts': [
        "import { eventSchemas, schemas, type EventDataMap, type EventType, type OrderCancelled, type OrderPlaced, type ShipmentRequested } from './events.js';",
        "export const placed: OrderPlaced = { orderId: 'o-1', customerId: 'c-1', amountCents: 1999, currency: 'EUR', placedAt: Date.now() };",
        "export const cancelled: OrderCancelled = { orderId: 'o-1', reason: 'OUT_OF_STOCK', note: null, cancelledAt: 0 };",
        "export const shipment: ShipmentRequested = { shipmentId: 's', orderId: 'o', parcels: 1, requestedAt: 0, address: { name: 'n', line1: 'l', line2: null, postalCode: 'p', city: 'c', country: 'DE' } };",
        "export const byType: EventDataMap['com.example.orders.order.placed'] = placed;",
        "export const type: EventType = 'com.example.shipping.shipment.requested';",
        "export const name: 'OrderPlaced' = schemas.OrderPlaced.name;",
        "export const same: typeof schemas.OrderCancelled = eventSchemas['com.example.orders.order.cancelled'];",
      ].join('\n'),
      'bad-amount.ts': "import type { OrderPlaced } from './events.js';\nexport const p: OrderPlaced = { orderId: 'o', customerId: 'c', amountCents: '19.99', currency: 'EUR', placedAt: 0 };",
      'bad-reason.ts': "import type { CancellationReason } from './events.js';\nexport const r: CancellationReason = 'CHANGED_MIND';",
      'bad-missing.ts': "import type { ShipmentRequested } from './events.js';\nexport const s: Omit<ShipmentRequested, 'address'> = { shipmentId: 's', orderId: 'o', parcels: 1 };",
      'bad-type.ts': "import type { EventType } from './events.js';\nexport const t: EventType = 'com.example.orders.order.shipped';",
    });
    expect(diagnostics['events.ts']).toEqual([]);
    expect(diagnostics['good.ts']).toEqual([]);
    expect(diagnostics['bad-amount.ts']).toEqual([expect.stringContaining("Type 'string' is not assignable to type 'number'")]);
    expect(diagnostics['bad-reason.ts']).toEqual([expect.stringContaining('"CHANGED_MIND"')]);
    expect(diagnostics['bad-missing.ts']).toEqual([expect.stringContaining("Property 'requestedAt' is missing")]);
    expect(diagnostics['bad-type.ts']).toHaveLength(1);
  }, 60_000);

  it('maps every Avro shape as avsc decodes it, and what the codec decodes at runtime type-checks', async () => {
    const schemas = tempFolder();
    writeFiles(schemas, { 'kitchen-sink.avsc': kitchenSink, 'ids.avsc': ['null', 'string'], 'subjects.json': trickyMapping });
    const text = generate(schemas);

    expect(text).toContain(' * A doc that tries to end the comment: *\\/ and goes on.');
    for (const line of [
      '  id: string;',
      '  at: number;',
      '  day: number;',
      '  price: Buffer;',
      '  digest: Md5;',
      'export type Md5 = Buffer;',
      "export type Status = 'ACTIVE' | 'RETIRED';",
      '  note: null | string;',
      '  mixed: number | string;',
      '  count: null | { int: number } | { long: number };',
      "  party: { 'com.example.tricky.Person': Person } | { 'com.example.tricky.Company': Company };",
      '  tags: (null | string)[];',
      '  scores: Record<string, number[]>;',
      '  home: ComExampleTrickyAddress;',
      '  work: ComExampleTrickyAddress;',
      '  billing: ComExampleBillingAddress;',
      '  box: ComExampleTrickyBuffer;',
      '  next: null | KitchenSink;',
      'export type Ids = null | string;',
      "  'dev.evkit.test.sink': KitchenSink;",
      'Logical type `timestamp-millis`: milliseconds since the Unix epoch (decoded as its underlying Avro type).',
    ]) {
      expect(text).toContain(line);
    }
    // Each named type is declared once, however often it is referenced.
    expect(text.match(/export interface ComExampleTrickyAddress /g)).toHaveLength(1);

    const codec = createAvroCodec({ registry: createInMemoryRegistry() });
    const sent = createEvent({ source: '/test', type: 'dev.evkit.test.sink', data: sample(sample(null)) });
    const { event } = await codec.decode(await codec.encode('t', sent, kitchenSink));
    const diagnostics = typeCheck(tempFolder(), {
      'events.ts': text,
      'decoded.ts': `import type { KitchenSink } from './events.js';\nexport const decoded: KitchenSink = ${literal(event.data)};`,
      'bad-unwrapped.ts': "import type { KitchenSink } from './events.js';\nexport const c: KitchenSink['count'] = 7;",
      'bad-date.ts': "import type { KitchenSink } from './events.js';\nexport const at: KitchenSink['at'] = new Date();",
    });
    expect(diagnostics['events.ts']).toEqual([]);
    expect(diagnostics['decoded.ts']).toEqual([]);
    expect(diagnostics['bad-unwrapped.ts']).toHaveLength(1);
    expect(diagnostics['bad-date.ts']).toEqual([expect.stringContaining("Type 'Date' is not assignable to type 'number'")]);
  }, 60_000);

  it('is deterministic: the same files give the same text, whatever order they were written in', () => {
    const first = tempFolder();
    const second = tempFolder();
    writeFiles(first, { 'kitchen-sink.avsc': kitchenSink, 'ids.avsc': ['null', 'string'], 'subjects.json': trickyMapping });
    writeFiles(second, { 'subjects.json': trickyMapping, 'ids.avsc': ['null', 'string'], 'kitchen-sink.avsc': kitchenSink });
    expect(generate(second)).toBe(generate(first));
    expect(generate(projectSchemas)).toBe(generate(projectSchemas));
  });

  it('refuses one named type defined differently in two files, and two files declaring one name', () => {
    const dir = tempFolder();
    const withAddress = (name: string, city: string) => ({ type: 'record', name, fields: [{ name: 'a', type: { type: 'record', name: 'Addr', fields: [{ name: city, type: 'string' }] } }] });
    writeFiles(dir, { 'a.avsc': withAddress('A', 'city'), 'b.avsc': withAddress('B', 'town') });
    expect(() => generate(dir)).toThrow(new CliFindingError('Addr is defined differently in a.avsc and b.avsc; define it once or give the two different names'));
    writeFiles(dir, { 'b.avsc': withAddress('A', 'city') });
    expect(() => generate(dir)).toThrow(/a.avsc and b.avsc both declare A at the top level/);
    writeFiles(dir, { 'b.avsc': withAddress('B', 'city') });
    expect(generate(dir).match(/export interface Addr /g)).toHaveLength(1);
  });

  it('writes the file, leaves it alone when unchanged, and --check exits 1 when it is missing or stale', async () => {
    const dir = tempFolder();
    writeFiles(dir, { 'schemas/ids.avsc': ['null', 'string'] });
    const schemasDir = path.join(dir, 'schemas');
    const out = path.join(dir, 'src/generated');
    const codegen = (...args: string[]) => run(['codegen', '--dir', schemasDir, '--out', out, ...args]);
    expect(await codegen('--check')).toBe(1);
    expect(output.stderr).toMatch(/events.ts is missing; run evkit codegen/);
    expect(await codegen()).toBe(0);
    expect(fs.readFileSync(path.join(out, 'events.ts'), 'utf8')).toContain('export type Ids = null | string;');
    expect(await codegen('--check')).toBe(0);
    writeFiles(dir, { 'schemas/ids.avsc': ['null', 'long'] });
    expect(await codegen('--check')).toBe(1);
    expect(output.stderr).toMatch(/events.ts is out of date/);
    writeFiles(dir, { 'schemas/broken.avsc': '{"type": "enum", "name": "E"}' });
    output.clear();
    expect(await codegen()).toBe(1);
    expect(output.stdout).toMatch(/FAIL .*broken.avsc: not a valid Avro schema/);
  });
});
