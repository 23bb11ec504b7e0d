import type { RecordHeaders } from '@evkit/envelope';
import type { Random } from './random';

// Mutations of bytes and of headers. Besides blind ones (bit flips, inserts, deletes, cuts),
// they write Avro varints with hostile values where a count or length may sit: that is what
// turns a few bytes into a loop of 10^15 or an allocation of 10^9.

/** Counts and lengths that hurt: huge, negative, at type boundaries. */
const HOSTILE_VALUES: readonly bigint[] = [
  -1n, -2n, -64n, 64n, 2n ** 31n - 1n, -(2n ** 31n), 10n ** 9n, -(10n ** 9n), 10n ** 15n, -(10n ** 15n), 2n ** 53n, 2n ** 62n, -(2n ** 63n), 2n ** 63n - 1n,
];

/** Avro's zig-zag varint. */
export function varint(value: bigint): Buffer {
  let n = value >= 0n ? value << 1n : (-value << 1n) - 1n;
  const bytes: number[] = [];
  do {
    const low = Number(n & 0x7fn);
    n >>= 7n;
    bytes.push(n > 0n ? low | 0x80 : low);
  } while (n > 0n);
  return Buffer.from(bytes);
}

type ByteMutation = (rng: Random, bytes: Buffer, from: number) => Buffer;

const at = (rng: Random, bytes: Buffer, from: number) => from + rng.int(Math.max(1, bytes.length - from));

const BYTE_MUTATIONS: readonly ByteMutation[] = [
  // Bit flip.
  (rng, b, from) => {
    const copy = Buffer.from(b);
    const i = at(rng, b, from);
    if (i < copy.length) copy[i]! ^= 1 << rng.int(8);
    return copy;
  },
  // A random byte.
  (rng, b, from) => {
    const copy = Buffer.from(b);
    const i = at(rng, b, from);
    if (i < copy.length) copy[i] = rng.int(256);
    return copy;
  },
  // Insert random bytes.
  (rng, b, from) => {
    const i = at(rng, b, from);
    return Buffer.concat([b.subarray(0, i), rng.bytes(1 + rng.int(8)), b.subarray(i)]);
  },
  // Delete a range.
  (rng, b, from) => {
    const i = at(rng, b, from);
    return Buffer.concat([b.subarray(0, i), b.subarray(i + 1 + rng.int(8))]);
  },
  // A hostile varint over 1 to 3 bytes (a count, a length, an index).
  (rng, b, from) => {
    const i = at(rng, b, from);
    return Buffer.concat([b.subarray(0, i), varint(rng.pick(HOSTILE_VALUES)), b.subarray(i + 1 + rng.int(3))]);
  },
  // A hostile varint inserted (a negative block count then a size, say).
  (rng, b, from) => {
    const i = at(rng, b, from);
    return Buffer.concat([b.subarray(0, i), varint(rng.pick(HOSTILE_VALUES)), varint(rng.pick(HOSTILE_VALUES)), b.subarray(i)]);
  },
  // Truncation.
  (rng, b, from) => b.subarray(0, at(rng, b, from)),
  // A slice repeated.
  (rng, b, from) => {
    const i = at(rng, b, from);
    const slice = b.subarray(i, i + 1 + rng.int(16));
    return Buffer.concat([b.subarray(0, i), slice, slice, b.subarray(i)]);
  },
];

/** 1 to 4 mutations of `bytes`, none before `from` (to keep a wire header, say). */
export function mutateBytes(rng: Random, bytes: Buffer, from = 0): Buffer {
  let out = bytes;
  for (let n = 1 + rng.int(4); n > 0; n--) out = rng.pick(BYTE_MUTATIONS)(rng, out, from);
  return out;
}

/** Header text that hurts: huge numbers, non-numbers, control characters, long text. */
const HOSTILE_TEXT: readonly string[] = [
  '', '-1', '0', '1e308', 'NaN', '9'.repeat(400), '0x10', ' 1', '１', '2147483648', '9223372036854775808', '\u0000', 'a'.repeat(70_000), '../../etc', 'null',
];

/** 1 to 3 changes to header values: mutated bytes, hostile text, repeats, removals, binary. */
export function mutateHeaders(rng: Random, headers: RecordHeaders): RecordHeaders {
  const out: RecordHeaders = { ...headers };
  const names = Object.keys(out);
  for (let n = 1 + rng.int(3); n > 0; n--) {
    const name = names.length > 0 && rng.chance(0.9) ? rng.pick(names) : `ce_${rng.pick(['x', 'id', 'time', 'Évil', ''])}`;
    const value = out[name];
    const current = Buffer.isBuffer(value) ? value : Buffer.from(typeof value === 'string' ? value : '');
    switch (rng.int(6)) {
      case 0:
        out[name] = mutateBytes(rng, current);
        break;
      case 1:
        out[name] = Buffer.from(rng.pick(HOSTILE_TEXT));
        break;
      case 2:
        out[name] = [current, current];
        break;
      case 3:
        delete out[name];
        break;
      case 4:
        out[name] = rng.bytes(rng.pick([4, 8, 1 + rng.int(32)]));
        break;
      default:
        out[name] = rng.chance(0.5) ? (null as unknown as undefined) : current.toString('latin1');
    }
  }
  return out;
}
