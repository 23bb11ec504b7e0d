import { createAvroCodec, createInMemoryRegistry, type AvroCodec, type AvroSchema } from '@evkit/codec';
import { createEvent, type KafkaRecord } from '@evkit/envelope';

// The seeds: valid records of a few schemas that between them use every Avro shape (arrays,
// maps, unions, nested and recursive records, enums, fixed, strings, bytes), in binary and
// structured mode, each with a reader schema that drops the arrays and maps (so the resolver's
// skipping paths run too) and adds a field with a default.

const line = {
  type: 'record',
  name: 'Line',
  fields: [
    { name: 'sku', type: 'string' },
    { name: 'qty', type: 'int' },
    { name: 'price', type: 'double' },
  ],
};
const order = {
  type: 'record',
  name: 'OrderPlaced',
  namespace: 'fuzz',
  fields: [
    { name: 'orderId', type: 'string' },
    { name: 'amountCents', type: 'long' },
    { name: 'currency', type: { type: 'enum', name: 'Currency', symbols: ['EUR', 'USD', 'GBP'] } },
    { name: 'note', type: ['null', 'string'], default: null },
    { name: 'lines', type: { type: 'array', items: line } },
    { name: 'attributes', type: { type: 'map', values: 'string' } },
    { name: 'digest', type: { type: 'fixed', name: 'Md5', size: 16 } },
    { name: 'signature', type: 'bytes' },
    { name: 'gift', type: 'boolean' },
    { name: 'weight', type: 'float' },
  ],
};
const tree = {
  type: 'record',
  name: 'TreeNode',
  namespace: 'fuzz',
  fields: [
    { name: 'name', type: 'string' },
    { name: 'children', type: { type: 'array', items: 'TreeNode' } },
    { name: 'meta', type: { type: 'map', values: ['null', 'long', { type: 'array', items: 'string' }] } },
    { name: 'parent', type: ['null', 'TreeNode'], default: null },
  ],
};
const mixed = {
  type: 'record',
  name: 'Mixed',
  namespace: 'fuzz',
  fields: [
    { name: 'value', type: ['null', 'int', 'string', { type: 'record', name: 'Point', fields: [{ name: 'x', type: 'int' }, { name: 'y', type: 'int' }] }] },
    { name: 'flags', type: { type: 'array', items: 'boolean' } },
    { name: 'nothing', type: { type: 'array', items: 'null' } },
    { name: 'empties', type: { type: 'array', items: { type: 'record', name: 'Empty', fields: [] } } },
    { name: 'nested', type: { type: 'map', values: { type: 'map', values: { type: 'array', items: 'int' } } } },
    { name: 'level', type: { type: 'enum', name: 'Level', symbols: ['LOW', 'MID', 'HIGH'] } },
  ],
};

const KEEP: Record<string, string[]> = { OrderPlaced: ['orderId', 'amountCents', 'currency', 'note', 'digest', 'signature', 'gift', 'weight'], TreeNode: ['name', 'parent'], Mixed: ['value', 'level'] };

/** The writer schema without its arrays and maps, plus a field with a default. */
function readerOf(schema: { name: string; fields: { name: string }[] }): object {
  const keep = KEEP[schema.name]!;
  return { ...schema, fields: [...schema.fields.filter((f) => keep.includes(f.name)), { name: 'addedLater', type: 'string', default: 'x' }] };
}

const md5 = Buffer.alloc(16, 7);
const orderData = (lines: number, attributes: number) => ({
  orderId: 'o-12345',
  amountCents: 129_900,
  currency: 'USD',
  note: lines % 2 === 0 ? null : 'leave at the door',
  lines: Array.from({ length: lines }, (_, i) => ({ sku: `sku-${i}`, qty: i + 1, price: 9.99 * i })),
  attributes: Object.fromEntries(Array.from({ length: attributes }, (_, i) => [`k${i}`, `v${i}`])),
  digest: md5,
  signature: Buffer.from('signed'),
  gift: true,
  weight: 1.5,
});
type Tree = { name: string; children: Tree[]; meta: Record<string, unknown>; parent: Tree | null };
const treeData = (depth: number, width: number): Tree => ({
  name: `n${depth}`,
  children: depth === 0 ? [] : Array.from({ length: width }, () => treeData(depth - 1, width)),
  meta: depth % 2 === 0 ? { size: depth, tags: ['a', 'b'], none: null } : {},
  parent: depth > 1 ? { name: 'p', children: [], meta: {}, parent: null } : null,
});
const mixedData = (variant: number) => ({
  value: [null, 7, 'seven', { x: 1, y: -1 }][variant % 4],
  flags: Array.from({ length: variant * 3 }, (_, i) => i % 2 === 0),
  nothing: Array.from({ length: variant }, () => null),
  empties: Array.from({ length: variant * 2 }, () => ({})),
  nested: { a: { b: [1, 2, 3] }, c: {} },
  level: ['LOW', 'MID', 'HIGH'][variant % 3],
});

const DATA: [object, unknown[]][] = [
  [order, [orderData(0, 0), orderData(1, 2), orderData(6, 5)]],
  [tree, [treeData(0, 0), treeData(2, 2), treeData(4, 1)]],
  [mixed, [mixedData(0), mixedData(1), mixedData(2), mixedData(3)]],
];

export interface Seed {
  name: string;
  mode: 'binary' | 'structured';
  record: KafkaRecord;
  readerSchema: AvroSchema;
}

export interface Corpus {
  /** Decodes every case; its registry holds every seed's schema. */
  codec: AvroCodec;
  seeds: Seed[];
  /** Schema ids the registry knows: mutations swap among them. */
  schemaIds: number[];
}

/** What a consumer receives: header values and key as Buffers. */
function consumed(record: KafkaRecord): KafkaRecord {
  const headers = Object.fromEntries(Object.entries(record.headers).map(([k, v]) => [k, Buffer.from(String(v))]));
  return { key: record.key === null ? null : Buffer.from(record.key), value: record.value, headers };
}

/** Builds the same corpus, ids included, in every process: the registry is in memory and fresh. */
export async function buildCorpus(): Promise<Corpus> {
  const registry = createInMemoryRegistry();
  const seeds: Seed[] = [];
  let n = 0;
  for (const mode of ['binary', 'structured'] as const) {
    const codec = createAvroCodec({ registry, mode, subjectNameStrategy: 'record' });
    for (const [schema, values] of DATA) {
      for (const data of values) {
        const event = createEvent({
          id: `0190a000-0000-7000-8000-${String(n++).padStart(12, '0')}`,
          time: '2026-01-01T00:00:00.000Z',
          source: '/fuzz',
          type: 'fuzz.event',
          subject: 'subject-1',
          partitionkey: 'key-1',
          extensions: { tenant: 'acme', region: 'eu' },
          data,
        });
        const record = consumed(await codec.encode('fuzz', event, schema));
        seeds.push({ name: `${(schema as { name: string }).name}/${mode}`, mode, record, readerSchema: readerOf(schema as never) });
      }
    }
  }
  const schemaIds = [...new Set(seeds.map((s) => s.record.value!.readInt32BE(1)))].sort((a, b) => a - b);
  return { codec: createAvroCodec({ registry }), seeds, schemaIds };
}
