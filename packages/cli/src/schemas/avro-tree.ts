import * as avro from 'avsc';

/** A JSON object in a schema file. */
export type JsonObject = Readonly<Record<string, unknown>>;

/**
 * An .avsc file's schema, parsed the way @evkit/codec parses it (avsc, no logical type hooks), so
 * what the CLI derives from it (generated types above all) matches what the codec does at runtime.
 * avsc drops what it does not interpret, logical types included, so the JSON is kept beside it.
 */
export interface ParsedSchema {
  readonly json: unknown;
  readonly type: avro.Type;
  /** Where each named type is defined in `json`, by full name, in document order. */
  readonly definitions: ReadonlyMap<string, JsonObject>;
}

/** Parses schema JSON text; throws an Error whose message says why it is not valid Avro. */
export function parseAvro(text: string): ParsedSchema {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`not JSON: ${messageOf(error)}`, { cause: error });
  }
  let type: avro.Type;
  try {
    type = avro.Type.forSchema(json as avro.Schema);
  } catch (error) {
    throw new Error(`not a valid Avro schema: ${messageOf(error)}`, { cause: error });
  }
  const definitions = new Map<string, JsonObject>();
  indexDefinitions(type, json, definitions);
  return { json, type, definitions };
}

/**
 * Walks the parsed type and its JSON side by side. A named type appears as an object where it is
 * defined and as a string (its name) wherever it is referenced afterwards; the walk records the
 * definitions and stops at references, which also ends it on recursive types.
 */
function indexDefinitions(type: avro.Type, json: unknown, definitions: Map<string, JsonObject>): void {
  if (!isObject(json)) {
    if (Array.isArray(json) && isUnion(type)) type.types.forEach((branch, i) => indexDefinitions(branch, json[i], definitions));
    return;
  }
  if (type.name !== undefined) {
    definitions.set(type.name, json);
    if (type instanceof avro.types.RecordType) {
      type.fields.forEach((field, i) => indexDefinitions(field.type, fieldsOf(json)[i]?.type, definitions));
    }
  } else if (type instanceof avro.types.ArrayType) {
    indexDefinitions(type.itemsType, json.items, definitions);
  } else if (type instanceof avro.types.MapType) {
    indexDefinitions(type.valuesType as avro.Type, json.values, definitions);
  }
}

/** A type and the JSON that declares it at one place in a schema. */
export interface SchemaNode {
  readonly type: avro.Type;
  readonly json: unknown;
}

/** A record field with its JSON (for `default` and `doc`, which avsc keeps only partly). */
export interface FieldNode extends SchemaNode {
  readonly name: string;
  readonly field: JsonObject;
}

export function rootNode(schema: ParsedSchema): SchemaNode {
  return { type: schema.type, json: schema.json };
}

/** The JSON definition of a named type, whether this node defines it or refers to it by name. */
export function definitionOf(schema: ParsedSchema, node: SchemaNode): JsonObject {
  if (node.type.name !== undefined) return schema.definitions.get(node.type.name) ?? {};
  return isObject(node.json) ? node.json : {};
}

export function fieldNodes(schema: ParsedSchema, node: SchemaNode): FieldNode[] {
  if (!(node.type instanceof avro.types.RecordType)) return [];
  const fields = fieldsOf(definitionOf(schema, node));
  return node.type.fields.map((field, i) => ({ name: field.name, type: field.type, json: fields[i]?.type, field: fields[i] ?? {} }));
}

export function itemsNode(node: SchemaNode & { type: avro.types.ArrayType }): SchemaNode {
  return { type: node.type.itemsType, json: isObject(node.json) ? node.json.items : undefined };
}

export function valuesNode(node: SchemaNode & { type: avro.types.MapType }): SchemaNode {
  return { type: node.type.valuesType as avro.Type, json: isObject(node.json) ? node.json.values : undefined };
}

export function branchNodes(node: SchemaNode & { type: UnionType }): SchemaNode[] {
  return node.type.types.map((type, i) => ({ type, json: Array.isArray(node.json) ? (node.json as unknown[])[i] : undefined }));
}

export type UnionType = avro.types.UnwrappedUnionType | avro.types.WrappedUnionType;

export function isUnion(type: avro.Type): type is UnionType {
  return type instanceof avro.types.UnwrappedUnionType || type instanceof avro.types.WrappedUnionType;
}

/** The kind of a type, with avsc's variants folded: both union flavours are `union`, an error is a `record`. */
export function kindOf(type: avro.Type): string {
  if (isUnion(type)) return 'union';
  return type.typeName === 'error' ? 'record' : type.typeName;
}

/** The `logicalType` a node declares (avsc without hooks ignores it, but readers care). */
export function logicalTypeOf(schema: ParsedSchema, node: SchemaNode): string | undefined {
  const logical = definitionOf(schema, node).logicalType;
  return typeof logical === 'string' ? logical : undefined;
}

/** One line for a person: `long (timestamp-millis)`, `null | string`, `array<record com.example.Line>`. */
export function describeNode(schema: ParsedSchema, node: SchemaNode): string {
  const { type } = node;
  if (isUnion(type)) return branchNodes({ ...node, type }).map((branch) => describeNode(schema, branch)).join(' | ');
  if (type instanceof avro.types.ArrayType) return `array<${describeNode(schema, itemsNode({ ...node, type }))}>`;
  if (type instanceof avro.types.MapType) return `map<${describeNode(schema, valuesNode({ ...node, type }))}>`;
  const logical = logicalTypeOf(schema, node);
  const base = type instanceof avro.types.FixedType ? `fixed ${type.name}(${type.size})` : type.name === undefined ? type.typeName : `${kindOf(type)} ${type.name}`;
  return logical === undefined ? base : `${base} (${logical})`;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fieldsOf(definition: JsonObject): JsonObject[] {
  return Array.isArray(definition.fields) ? (definition.fields as unknown[]).map((f) => (isObject(f) ? f : {})) : [];
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
