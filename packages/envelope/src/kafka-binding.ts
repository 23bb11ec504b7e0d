import { isUtf8 } from 'node:buffer';
import { InvalidEventError, MalformedRecordError } from './errors';
import { KNOWN, KNOWN_ATTRIBUTES, validateAttributes, validateRecurringAttributes, type CloudEvent, type CloudEventAttributes } from './event';

// The CloudEvents Kafka protocol binding 1.0.2. Binary mode: each attribute is a `ce_<name>`
// header (UTF-8), `datacontenttype` is the `content-type` header, the value is the data, and the
// record key is the `partitionkey` extension. Structured mode: the whole event is the value and
// `content-type` is `application/cloudevents+<format>`.

export type HeaderValue = Buffer | string | (Buffer | string)[] | undefined;
export type RecordHeaders = Record<string, HeaderValue>;

/** A Kafka record as evkit reads and writes it; the shape KafkaJS uses. */
export interface KafkaRecord {
  key: Buffer | string | null;
  value: Buffer | null;
  headers: RecordHeaders;
}

export type BindingMode = 'binary' | 'structured';

export const CE_HEADER_PREFIX = 'ce_';
export const CONTENT_TYPE_HEADER = 'content-type';
export const STRUCTURED_CONTENT_TYPE_PREFIX = 'application/cloudevents';
export const STRUCTURED_AVRO_CONTENT_TYPE = 'application/cloudevents+avro';
/**
 * The longest header (or key) read as text: ample for any attribute (ids, URIs, trace state),
 * and a 1 MiB attribute never reaches validation, an error message or a log line.
 */
export const MAX_ATTRIBUTE_BYTES = 8 * 1024;

/** Binary-mode headers and key of an event whose data is already encoded as `value`. */
export function toBinaryRecord(event: CloudEventAttributes, value: Buffer): KafkaRecord {
  const headers: RecordHeaders = {};
  for (const name of KNOWN_ATTRIBUTES) {
    const attribute = event[name];
    if (attribute === undefined) continue;
    if (name === 'datacontenttype') headers[CONTENT_TYPE_HEADER] = attribute;
    else headers[CE_HEADER_PREFIX + name] = attribute;
  }
  for (const [name, attribute] of Object.entries(event.extensions)) headers[CE_HEADER_PREFIX + name] = attribute;
  return { key: event.partitionkey ?? null, value, headers };
}

/** Structured mode, or binary when the content type does not say `application/cloudevents`. */
export function bindingModeOf(headers: RecordHeaders): BindingMode {
  const contentType = headerText(headers, CONTENT_TYPE_HEADER);
  return contentType !== undefined && contentType.toLowerCase().startsWith(STRUCTURED_CONTENT_TYPE_PREFIX)
    ? 'structured'
    : 'binary';
}

/**
 * The attributes of a binary-mode record (the value is left to the codec). The key stands in
 * for `partitionkey` when no `ce_partitionkey` header is present. Throws MalformedRecordError
 * naming the header at fault.
 */
export function fromBinaryRecord(record: Pick<KafkaRecord, 'key' | 'headers'>): CloudEventAttributes {
  const attributes: Record<string, unknown> = {};
  const extensions: Record<string, string> = {};
  for (const header of Object.keys(record.headers)) {
    if (!header.startsWith(CE_HEADER_PREFIX)) continue;
    const name = header.slice(CE_HEADER_PREFIX.length);
    const text = RECURRING_HEADERS.has(header) ? recurringHeaderText(record.headers, header) : headerText(record.headers, header);
    if (text === undefined) continue;
    if (KNOWN.has(name)) attributes[name] = text;
    else extensions[name] = text;
  }
  if (attributes.specversion === undefined) {
    throw new MalformedRecordError(`not a CloudEvent: no ${CE_HEADER_PREFIX}specversion header and no structured content-type`);
  }
  // The binding puts datacontenttype in `content-type`; some writers (the CloudEvents JS SDK)
  // also send `ce_datacontenttype`. Both are read; only a disagreement is malformed.
  const contentType = recurringHeaderText(record.headers, CONTENT_TYPE_HEADER);
  if (contentType !== undefined) {
    if (attributes.datacontenttype !== undefined && attributes.datacontenttype !== contentType) {
      throw new MalformedRecordError(
        `headers content-type (${contentType}) and ce_datacontenttype (${attributes.datacontenttype as string}) disagree`,
      );
    }
    attributes.datacontenttype = contentType;
  }
  if (attributes.partitionkey === undefined && record.key !== null && record.key.length > 0) {
    attributes.partitionkey = textOf(record.key, 'the record key');
  }
  try {
    // The codec adds the data.
    attributes.extensions = extensions;
    const candidate = attributes as { id: string; specversion: string; source: string; type: string };
    // The attributes a stream repeats are checked once per distinct set of values.
    const recurring = recurringKey(attributes.source) + recurringKey(attributes.datacontenttype) + recurringKey(attributes.dataschema);
    if (validRecurring.has(recurring)) return validateRecurringAttributes(candidate);
    const valid = validateAttributes(candidate);
    if (validRecurring.size >= MAX_REMEMBERED_SETS) validRecurring.clear();
    validRecurring.add(recurring);
    return valid;
  } catch (error) {
    if (error instanceof InvalidEventError) {
      const header = error.attribute === 'datacontenttype' ? CONTENT_TYPE_HEADER : CE_HEADER_PREFIX + error.attribute;
      throw new MalformedRecordError(`header ${header}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

// Headers whose values a stream repeats (one source, a few types, one content type): their text
// is decoded (UTF-8 checked) once per distinct value, and the attribute checks of the set they
// make once per distinct set. Bounded: at most MAX_REMEMBERED_VALUES values per header (8 KiB
// each at most) and MAX_REMEMBERED_SETS sets; a stream of ever-new values only cycles them.
const RECURRING_HEADERS = new Set(['ce_source', 'ce_specversion', 'ce_type', 'ce_dataschema', 'ce_datacontenttype', CONTENT_TYPE_HEADER]);
const MAX_REMEMBERED_VALUES = 16;
const MAX_REMEMBERED_SETS = 256;
const rememberedText = new Map<string, { bytes: Buffer; text: string }[]>();
const validRecurring = new Set<string>();

/** Length-prefixed, so that no two sets of values make the same key; '-' when absent. */
function recurringKey(value: unknown): string {
  return typeof value === 'string' ? `${value.length}:${value}` : '-';
}

function recurringHeaderText(headers: RecordHeaders, name: string): string | undefined {
  const value = headers[name];
  if (!Buffer.isBuffer(value)) return headerText(headers, name);
  let seen = rememberedText.get(name);
  if (seen) {
    for (const entry of seen) if (entry.bytes.equals(value)) return entry.text;
  }
  const text = headerText(headers, name)!;
  if (!seen) rememberedText.set(name, (seen = []));
  if (seen.length >= MAX_REMEMBERED_VALUES) seen.shift();
  // A copy: the value may be a slice of a whole fetch response, which must not stay alive.
  seen.push({ bytes: Buffer.from(value), text });
  return text;
}

/** The event with its data, frozen; the attributes are taken as already validated. */
export function withData<T>(attributes: CloudEventAttributes, data: T): CloudEvent<T> {
  return Object.freeze({ ...attributes, data });
}

/** A header's text; a header given twice is ambiguous and so malformed. */
export function headerText(headers: RecordHeaders, name: string): string | undefined {
  const value = headers[name];
  // Kafka allows a header with a null value (Connect writes one for a NULL column): absent.
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) {
    throw new MalformedRecordError(`header ${name} appears ${value.length} times; a CloudEvent attribute has one value`);
  }
  return textOf(value, `header ${name}`);
}

/**
 * Bytes as text, checked once: invalid UTF-8 is refused, not replaced with U+FFFD (two distinct
 * ids would decode alike and collide in dedupe), and so is text longer than MAX_ATTRIBUTE_BYTES.
 */
function textOf(value: Buffer | string, what: string): string {
  const bytes = typeof value === 'string' ? Buffer.byteLength(value) : value.length;
  if (bytes > MAX_ATTRIBUTE_BYTES) throw new MalformedRecordError(`${what} is ${bytes} bytes, more than the ${MAX_ATTRIBUTE_BYTES} an attribute may be`);
  if (typeof value === 'string') return value;
  if (!isUtf8(value)) throw new MalformedRecordError(`${what} is not valid UTF-8`);
  return value.toString('utf8');
}
