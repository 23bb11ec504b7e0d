// Over 300 lines for a reason: the CloudEvents attribute rules and their fast paths (attributes
// the producer generated, header sets a stream repeats) share one validator, so a rule is written
// once and every path applies it.
import { v7 as uuidv7 } from 'uuid';
import { truncate } from '@evkit/errors';
import { InvalidEventError } from './errors';

/** A refused value as an error message shows it: quoted, and short (it may be anything a producer sent). */
const shown = (value: unknown) => truncate(JSON.stringify(value) ?? String(value), 100);

/**
 * A CloudEvents 1.0.2 event. The known extensions (correlation, partitioning, distributed
 * tracing) are typed attributes; any other extension lives in `extensions`. Extension values
 * are strings, which is how every binding (Kafka headers included) carries them, so an event
 * round-trips through Kafka exactly.
 */
export interface CloudEventAttributes {
  readonly id: string;
  /** URI-reference identifying the context the event happened in, e.g. `/orders-service`. */
  readonly source: string;
  readonly specversion: '1.0';
  /** Reverse-DNS event type, e.g. `com.example.order.placed`. */
  readonly type: string;
  /** The aggregate or resource the event is about. */
  readonly subject?: string;
  /** RFC 3339 timestamp of the occurrence. */
  readonly time?: string;
  readonly datacontenttype?: string;
  readonly dataschema?: string;
  /** Correlation extension: the id shared by every event of one business flow. */
  readonly correlationid?: string;
  /** Correlation extension: the id of the event that caused this one. */
  readonly causationid?: string;
  /** Partitioning extension: the Kafka record key, normally the aggregate id. */
  readonly partitionkey?: string;
  /** Distributed tracing extension: W3C trace context. */
  readonly traceparent?: string;
  readonly tracestate?: string;
  readonly extensions: Readonly<Record<string, string>>;
}

export interface CloudEvent<T = unknown> extends CloudEventAttributes {
  readonly data: T;
}

/** What a caller gives to make an event; `id`, `time` and `specversion` are filled in when absent. */
export interface CloudEventInit<T = unknown> {
  id?: string;
  source: string;
  specversion?: '1.0';
  type: string;
  subject?: string;
  time?: string | Date;
  datacontenttype?: string;
  dataschema?: string;
  correlationid?: string;
  causationid?: string;
  partitionkey?: string;
  traceparent?: string;
  tracestate?: string;
  extensions?: Record<string, string>;
  data: T;
}

export const SPEC_VERSION = '1.0';

/** Attributes with a place of their own; everything else is an extension. */
export const KNOWN_ATTRIBUTES = [
  'id',
  'source',
  'specversion',
  'type',
  'subject',
  'time',
  'datacontenttype',
  'dataschema',
  'correlationid',
  'causationid',
  'partitionkey',
  'traceparent',
  'tracestate',
] as const satisfies readonly (keyof CloudEventAttributes)[];

export type KnownAttribute = (typeof KNOWN_ATTRIBUTES)[number];

/** KNOWN_ATTRIBUTES as a set (package-internal). */
export const KNOWN = new Set<string>(KNOWN_ATTRIBUTES);
const INIT_KEYS = new Set<string>([...KNOWN_ATTRIBUTES, 'extensions', 'data']);

// CloudEvents 1.0.2, "Attribute Naming Convention": lower-case ASCII letters and digits, at most
// 20 characters (a SHOULD in the spec; enforced here so every binding can carry the name).
const ATTRIBUTE_NAME = /^[a-z0-9]{1,20}$/;
// RFC 3339 date-time (section 5.6); T/Z may be lower case.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
// W3C Trace Context version 00: version-traceid-parentid-flags, lower-case hex.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
// RFC 2046 media type with optional parameters.
const MEDIA_TYPE = /^[A-Za-z0-9][\w!#$&^.+-]*\/[A-Za-z0-9][\w!#$&^.+-]*(\s*;.*)?$/;
// RFC 3986 absolute URI: a scheme, then anything without white space.
const ABSOLUTE_URI = /^[A-Za-z][A-Za-z0-9+.-]*:\S+$/;

/** A new event id: a UUIDv7, unique and sortable by creation time. */
export function newEventId(): string {
  return uuidv7();
}

let clockMs = -1;
let clockText = '';

/** The current time as an RFC 3339 string; one `toISOString` per millisecond, however many events. */
export function nowTimestamp(): string {
  const ms = Date.now();
  if (ms !== clockMs) {
    clockMs = ms;
    clockText = new Date(ms).toISOString();
  }
  return clockText;
}

/**
 * Makes an immutable, validated event, filling in `id` (UUIDv7), `time` (now) and
 * `specversion`. Throws InvalidEventError naming the first bad attribute.
 */
export function createEvent<T>(init: CloudEventInit<T>): CloudEvent<T> {
  if (init === null || typeof init !== 'object') throw new InvalidEventError('(event)', 'must be an object');
  const time = init.time instanceof Date ? init.time.toISOString() : (init.time ?? nowTimestamp());
  return validateEvent({ ...init, id: init.id ?? newEventId(), specversion: init.specversion ?? SPEC_VERSION, time });
}

/**
 * Which attributes of an event its maker generated itself, so that they need no check: `id` (a
 * UUIDv7 from newEventId), `time` (nowTimestamp), `source` (checked once by the maker),
 * `correlation` (correlationid and causationid from correlationFor without explicit values: a
 * validated event's, or the new id) and `trace` (traceparent and tracestate of a valid span).
 */
export interface GeneratedAttributes {
  id?: boolean;
  time?: boolean;
  source?: boolean;
  correlation?: boolean;
  trace?: boolean;
}

/** Package-internal: `source`, `datacontenttype` and `dataschema` seen valid with these values. */
interface CheckedAttributes extends GeneratedAttributes {
  recurring?: boolean;
}

const RECURRING_CHECKED: CheckedAttributes = Object.freeze({ source: true, recurring: true });

// The last time text that passed: events of one batch share their millisecond.
let lastValidTime = '';

/**
 * createEvent for evkit's own producers (@evkit/producer, @evkit/outbox): `init` is complete (id
 * and a string time set), and the attributes named in `generated` are not checked again. Every
 * other attribute, and anything the user gave, is checked as createEvent does; the result is the
 * same frozen event.
 */
export function createGeneratedEvent<T>(init: CloudEventInit<T> & { id: string; time: string }, generated: GeneratedAttributes): CloudEvent<T> {
  const event = checkedAttributes(init, generated, SPEC_VERSION);
  event.data = init.data;
  return Object.freeze(event) as unknown as CloudEvent<T>;
}

/** Validates a complete event (nothing is filled in) and returns it frozen. */
export function validateEvent<T>(
  candidate: Omit<CloudEventInit<T>, 'specversion'> & { id: string; specversion: string },
): CloudEvent<T> {
  const event = checkedAttributes(candidate);
  event.data = candidate.data;
  return Object.freeze(event) as unknown as CloudEvent<T>;
}

/** validateEvent for an event read without its data (the Kafka binding: the codec adds it). */
export function validateAttributes(
  candidate: Omit<CloudEventInit, 'specversion' | 'data'> & { id: string; specversion: string },
): CloudEventAttributes {
  return Object.freeze(checkedAttributes(candidate)) as unknown as CloudEventAttributes;
}

/**
 * validateAttributes, when the caller already saw `source`, `datacontenttype` and `dataschema`
 * with these very values pass (package-internal: the Kafka binding, once per distinct header set).
 */
export function validateRecurringAttributes(
  candidate: Omit<CloudEventInit, 'specversion' | 'data'> & { id: string; specversion: string },
): CloudEventAttributes {
  return Object.freeze(checkedAttributes(candidate, RECURRING_CHECKED)) as unknown as CloudEventAttributes;
}

/**
 * The attributes of `candidate`, checked, as a new object (present ones only, in
 * KNOWN_ATTRIBUTES order). Every consumed record and published event goes through here, so the
 * checks read each attribute by name once rather than looping with computed keys.
 */
const NOTHING_GENERATED: CheckedAttributes = Object.freeze({});

function checkedAttributes(candidate: object, generated: CheckedAttributes = NOTHING_GENERATED, specversion?: string): Record<string, unknown> {
  for (const key in candidate) {
    if (Object.prototype.hasOwnProperty.call(candidate, key) && !INIT_KEYS.has(key)) {
      throw new InvalidEventError(key, 'is not a CloudEvent attribute; put extensions under `extensions`');
    }
  }
  const c = candidate as Partial<Record<KnownAttribute | 'extensions', unknown>>;
  if (!generated.id) requireText('id', c.id);
  if (!generated.source) {
    const source = requireText('source', c.source);
    if (/\s/.test(source)) throw new InvalidEventError('source', 'must be a URI-reference (no white space)');
  }
  // Filled in when absent (createGeneratedEvent), checked when given.
  const version = c.specversion === undefined ? specversion : c.specversion;
  if (version !== SPEC_VERSION) {
    throw new InvalidEventError('specversion', `must be "${SPEC_VERSION}", got ${shown(version)}`);
  }
  requireText('type', c.type);
  optionalText('subject', c.subject);
  if (!generated.correlation) {
    optionalText('correlationid', c.correlationid);
    optionalText('causationid', c.causationid);
  }
  optionalText('partitionkey', c.partitionkey);
  if (!generated.time) {
    const time = optionalText('time', c.time);
    if (time !== undefined && time !== lastValidTime) {
      if (!isRfc3339(time)) throw new InvalidEventError('time', `must be an RFC 3339 timestamp, got ${shown(time)}`);
      lastValidTime = time;
    }
  }
  if (!generated.recurring) {
    const datacontenttype = optionalText('datacontenttype', c.datacontenttype);
    if (datacontenttype !== undefined && !MEDIA_TYPE.test(datacontenttype)) {
      throw new InvalidEventError('datacontenttype', `must be an RFC 2046 media type, got ${shown(datacontenttype)}`);
    }
    const dataschema = optionalText('dataschema', c.dataschema);
    if (dataschema !== undefined && !ABSOLUTE_URI.test(dataschema)) {
      throw new InvalidEventError('dataschema', `must be an absolute URI, got ${shown(dataschema)}`);
    }
  }
  if (!generated.trace) {
    optionalText('tracestate', c.tracestate);
    const traceparent = optionalText('traceparent', c.traceparent);
    if (traceparent !== undefined && !isTraceparent(traceparent)) {
      throw new InvalidEventError('traceparent', `must be a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>), got ${shown(traceparent)}`);
    }
  }
  const extensions = validateExtensions(c.extensions);

  // KNOWN_ATTRIBUTES order, each by name (no computed keys on the hot path).
  const event: Record<string, unknown> = {};
  if (c.id !== undefined) event.id = c.id;
  if (c.source !== undefined) event.source = c.source;
  event.specversion = version;
  if (c.type !== undefined) event.type = c.type;
  if (c.subject !== undefined) event.subject = c.subject;
  if (c.time !== undefined) event.time = c.time;
  if (c.datacontenttype !== undefined) event.datacontenttype = c.datacontenttype;
  if (c.dataschema !== undefined) event.dataschema = c.dataschema;
  if (c.correlationid !== undefined) event.correlationid = c.correlationid;
  if (c.causationid !== undefined) event.causationid = c.causationid;
  if (c.partitionkey !== undefined) event.partitionkey = c.partitionkey;
  if (c.traceparent !== undefined) event.traceparent = c.traceparent;
  if (c.tracestate !== undefined) event.tracestate = c.tracestate;
  event.extensions = extensions;
  return event;
}

/** `value` as a required, non-empty string. */
function requireText(name: KnownAttribute, value: unknown): string {
  if (value === undefined || value === null) throw new InvalidEventError(name, 'is required');
  if (typeof value !== 'string') throw new InvalidEventError(name, `must be a string, got ${typeof value}`);
  if (value.length === 0) throw new InvalidEventError(name, 'must not be empty');
  return value;
}

/** `value` when present (and then a non-empty string), else undefined. */
function optionalText(name: KnownAttribute, value: unknown): string | undefined {
  return value === undefined ? undefined : requireText(name, value);
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isRfc3339(value: string): boolean {
  const match = RFC3339.exec(value);
  if (!match) return false;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  if (month < 1 || month > 12 || Number(match[4]) > 23 || Number(match[5]) > 59 || Number(match[6]) > 60) return false;
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day >= 1 && day <= DAYS_IN_MONTH[month - 1]! + (leap ? 1 : 0);
}

function isTraceparent(value: string): boolean {
  const match = TRACEPARENT.exec(value);
  if (!match) return false;
  const [, version, traceId, parentId] = match;
  return version !== 'ff' && !/^0+$/.test(traceId!) && !/^0+$/.test(parentId!);
}

const NO_EXTENSIONS: Readonly<Record<string, string>> = Object.freeze({});

function validateExtensions(extensions: unknown): Readonly<Record<string, string>> {
  if (extensions === undefined) return NO_EXTENSIONS;
  if (extensions === null || typeof extensions !== 'object' || Array.isArray(extensions)) {
    throw new InvalidEventError('extensions', 'must be an object of string values');
  }
  const copy: Record<string, string> = {};
  for (const [name, value] of Object.entries(extensions)) {
    if (!ATTRIBUTE_NAME.test(name)) {
      throw new InvalidEventError(name, 'is not a valid extension name (lower-case letters and digits, at most 20)');
    }
    if (KNOWN.has(name) || name === 'data') {
      throw new InvalidEventError(name, 'is a CloudEvent attribute of its own, not an extension');
    }
    if (typeof value !== 'string' || value.length === 0) {
      throw new InvalidEventError(name, 'must be a non-empty string (extension values travel as strings)');
    }
    copy[name] = value;
  }
  return Object.freeze(copy);
}
