import type { IncomingRecord, OutgoingRecord } from '@evkit/transport';

type Headers = OutgoingRecord['headers'];

/**
 * evkit's headers as the client's header map. A header given several values is written once per
 * value: the map is keyed by Buffer objects, so equal names in distinct Buffers stay apart.
 */
export function toHeaderMap(headers: Headers): Map<Buffer, Buffer> {
  const map = new Map<Buffer, Buffer>();
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const part of Array.isArray(value) ? value : [value]) {
      map.set(Buffer.from(name, 'utf8'), typeof part === 'string' ? Buffer.from(part, 'utf8') : part);
    }
  }
  return map;
}

/** Headers as read from the wire, in evkit's shape (KafkaJS's): a repeated name becomes an array. */
export function fromHeaderPairs(pairs: readonly (readonly [Buffer | null, Buffer | null])[]): IncomingRecord['headers'] {
  const headers: IncomingRecord['headers'] = {};
  for (const [rawName, rawValue] of pairs) {
    if (rawName === null) continue;
    const name = rawName.toString('utf8');
    const value = rawValue ?? Buffer.alloc(0);
    const existing = headers[name];
    if (existing === undefined) headers[name] = value;
    else headers[name] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return headers;
}
