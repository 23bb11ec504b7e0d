import * as avro from 'avsc';
import {
  branchNodes,
  definitionOf,
  describeNode,
  fieldNodes,
  isUnion,
  itemsNode,
  kindOf,
  rootNode,
  valuesNode,
  type FieldNode,
  type ParsedSchema,
  type SchemaNode,
} from './avro-tree';

/**
 * One difference between two versions of a schema, for people reading a pull request. `path` is
 * the field path (`address.line2`, `lines[]` for an array's items, `attributes{}` for a map's
 * values); '' is the top-level type.
 */
export interface SchemaChange {
  readonly path: string;
  readonly change: 'added' | 'removed' | 'changed';
  readonly detail: string;
}

/** What changed from `before` to `after`, in the order of `after`'s fields (then removed ones). */
export function diffSchemas(before: ParsedSchema, after: ParsedSchema): SchemaChange[] {
  const changes: SchemaChange[] = [];
  const compared = new Set<string>();
  const push = (path: string, change: SchemaChange['change'], detail: string) => changes.push({ path, change, detail });
  const describe = (schema: ParsedSchema, node: SchemaNode) => describeNode(schema, node);

  const compare = (a: SchemaNode, b: SchemaNode, path: string): void => {
    if (kindOf(a.type) !== kindOf(b.type)) {
      push(path, 'changed', `${describe(before, a)} → ${describe(after, b)}`);
      return;
    }
    if (a.type.name !== undefined && b.type.name !== undefined) {
      // A named type is compared once: later references, and recursion, add nothing new.
      const pair = `${a.type.name}\u0000${b.type.name}`;
      if (compared.has(pair)) return;
      compared.add(pair);
      if (a.type.name !== b.type.name) push(path, 'changed', `${kindOf(a.type)} renamed ${a.type.name} → ${b.type.name}`);
      if (definitionOf(before, a).doc !== definitionOf(after, b).doc) push(path, 'changed', `${kindOf(a.type)} doc changed`);
    }
    const [ta, tb] = [a.type, b.type];
    if (isUnion(ta) && isUnion(tb)) compareUnions(branchNodes({ ...a, type: ta }), branchNodes({ ...b, type: tb }), path);
    else if (ta instanceof avro.types.RecordType) compareFields(fieldNodes(before, a), fieldNodes(after, b), path);
    else if (ta instanceof avro.types.EnumType && tb instanceof avro.types.EnumType) compareEnums(a, b, path);
    else if (ta instanceof avro.types.FixedType && tb instanceof avro.types.FixedType) {
      if (ta.size !== tb.size) push(path, 'changed', `size ${ta.size} → ${tb.size}`);
    } else if (ta instanceof avro.types.ArrayType && tb instanceof avro.types.ArrayType) {
      compare(itemsNode({ ...a, type: ta }), itemsNode({ ...b, type: tb }), `${path}[]`);
    } else if (ta instanceof avro.types.MapType && tb instanceof avro.types.MapType) {
      compare(valuesNode({ ...a, type: ta }), valuesNode({ ...b, type: tb }), `${path}{}`);
    } else if (describe(before, a) !== describe(after, b)) {
      push(path, 'changed', `${describe(before, a)} → ${describe(after, b)}`); // a primitive's logical type
    }
  };

  const compareFields = (old: readonly FieldNode[], now: readonly FieldNode[], path: string) => {
    const at = (name: string) => (path === '' ? name : `${path}.${name}`);
    const remaining = new Map(old.map((field) => [field.name, field]));
    for (const field of now) {
      const aliases = Array.isArray(field.field.aliases) ? (field.field.aliases as unknown[]) : [];
      const previous = remaining.get(field.name) ?? old.find((o) => aliases.includes(o.name) && remaining.has(o.name));
      if (previous === undefined) {
        const fallback = 'default' in field.field ? `, default ${JSON.stringify(field.field.default)}` : ', no default';
        push(at(field.name), 'added', `${describe(after, field)}${fallback}`);
        continue;
      }
      remaining.delete(previous.name);
      if (previous.name !== field.name) push(at(field.name), 'changed', `renamed from ${previous.name} (alias)`);
      const [was, is] = [JSON.stringify(previous.field.default), JSON.stringify(field.field.default)];
      if (was !== is) push(at(field.name), 'changed', was === undefined ? `default ${is} added` : is === undefined ? `default ${was} removed` : `default ${was} → ${is}`);
      if (previous.field.doc !== field.field.doc) push(at(field.name), 'changed', 'doc changed');
      compare(previous, field, at(field.name));
    }
    for (const field of remaining.values()) push(at(field.name), 'removed', describe(before, field));
  };

  const compareUnions = (old: readonly SchemaNode[], now: readonly SchemaNode[], path: string) => {
    // A union holds at most one branch per name (named types) or kind (the rest).
    const key = (node: SchemaNode) => node.type.name ?? kindOf(node.type);
    const previous = new Map(old.map((branch) => [key(branch), branch]));
    for (const branch of now) {
      const match = previous.get(key(branch));
      if (match === undefined) push(path, 'changed', `union branch added: ${describe(after, branch)}`);
      else {
        previous.delete(key(branch));
        compare(match, branch, path);
      }
    }
    for (const branch of previous.values()) push(path, 'changed', `union branch removed: ${describe(before, branch)}`);
  };

  const compareEnums = (a: SchemaNode, b: SchemaNode, path: string) => {
    // avsc keeps an enum's `default` (validated against its symbols), but its typings omit it.
    type EnumWithDefault = avro.types.EnumType & { default?: string };
    const [was, is] = [a.type as EnumWithDefault, b.type as EnumWithDefault];
    const added = is.symbols.filter((s) => !was.symbols.includes(s));
    const removed = was.symbols.filter((s) => !is.symbols.includes(s));
    if (added.length > 0) push(path, 'changed', `symbols added: ${added.join(', ')}`);
    if (removed.length > 0) push(path, 'changed', `symbols removed: ${removed.join(', ')}`);
    const [d1, d2] = [was.default, is.default];
    if (d1 !== d2) push(path, 'changed', `default symbol ${d1 ?? 'none'} → ${d2 ?? 'none'}`);
  };

  compare(rootNode(before), rootNode(after), '');
  return changes;
}
