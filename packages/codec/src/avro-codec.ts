// Over 300 lines for a reason: encode, decode, schema enforcement and the per-codec caches share
// one closure's state; the bounded decode and registry plumbing already live in their own files.
import * as avro from 'avsc';
import {
  bindingModeOf,
  CONTENT_TYPE_HEADER,
  fromBinaryRecord,
  headerText,
  InvalidEventError,
  KNOWN_ATTRIBUTES,
  MalformedRecordError,
  STRUCTURED_AVRO_CONTENT_TYPE,
  toBinaryRecord,
  UnsupportedContentTypeError,
  validateEvent,
  withData,
  type BindingMode,
  type CloudEvent,
  type KafkaRecord,
} from '@evkit/envelope';
import { isEvkitError } from '@evkit/errors';
import { boundedDecode } from './bounded-decode';
import { isCompatibilityLevel, type CompatibilityLevel } from './compatibility';
import {
  CodecConfigError,
  CorruptPayloadError,
  InvalidPayloadError,
  InvalidSchemaError,
  ReaderSchemaMismatchError,
} from './errors';
import { createRegistryClient, type RegistryOptions, type SchemaRegistryClient } from './registry-client';
import { createSchemaEnforcer } from './schema-enforcement';
import { DEFAULT_SUBJECT_NAME_STRATEGY, subjectNamer, type SubjectNameStrategy } from './subject-naming';
import { parseWire, wireHeader } from './wire-format';

/** An Avro schema as JSON text or as the parsed object. */
export type AvroSchema = string | object;

export interface AvroCodecOptions {
  /** Where schemas live: connection options, or a client made with createRegistryClient. */
  registry: RegistryOptions | SchemaRegistryClient;
  /** Default `topic-record` (TopicRecordNameStrategy, `<topic>-<record full name>`): one subject per event type on a topic. */
  subjectNameStrategy?: SubjectNameStrategy;
  /** Binary (default: attributes as `ce_` headers, data as the value) or structured (the whole event as one Avro record). */
  mode?: BindingMode;
  /** Register unknown schemas at publish time. Default true; turn off in production and register in the deploy step. */
  autoRegister?: boolean;
  /** The compatibility every subject must have. Default BACKWARD_TRANSITIVE. */
  requiredCompatibility?: CompatibilityLevel;
  /** Publish to subjects configured weaker than required. Default false. */
  allowWeakerCompatibility?: boolean;
}

export interface DecodedRecord<T> {
  event: CloudEvent<T>;
  /** The writer's schema id from the wire format header. */
  schemaId: number;
  mode: BindingMode;
}

export interface DecodeOptions {
  /** Read into this schema (Avro schema resolution) instead of the writer's. */
  readerSchema?: AvroSchema;
}

export interface AvroCodec {
  /**
   * The Kafka record for `event`, its data encoded with `schema` in the Confluent wire format.
   * The subject's compatibility is enforced before the first use of a schema; on failure it
   * throws and nothing is produced.
   */
  encode<T>(topic: string, event: CloudEvent<T>, schema: AvroSchema): Promise<KafkaRecord>;
  /**
   * `encode` without a promise, when it needs no registry call: the record once this schema's id
   * for this topic is known (an earlier encode or prepare resolved it), undefined before (then
   * call encode). Throws what encode would reject with. Optional: codecs of other makers may
   * leave it out.
   */
  encodeIfReady?<T>(topic: string, event: CloudEvent<T>, schema: AvroSchema): KafkaRecord | undefined;
  /** The event in a record written by evkit or by any CloudEvents Kafka binding with Confluent Avro. */
  decode<T = unknown>(record: KafkaRecord, options?: DecodeOptions): Promise<DecodedRecord<T>>;
  /** Enforces and registers ahead of the first publish (e.g. at start-up); returns the schema id. */
  prepare(topic: string, schema: AvroSchema): Promise<number>;
}

/** Content types that name Avro data in binary mode; absent means the same. */
const AVRO_CONTENT_TYPES = /^(application\/avro|avro\/binary|application\/[\w.+-]*\+avro)(\s*;.*)?$/i;
const DEFAULT_CONTENT_TYPE = 'application/avro';

interface PreparedSchema {
  /** The text registered, as the user wrote it: defaults, docs and logical types intact. */
  text: string;
  type: avro.Type;
  /** Full name of a named type, '' otherwise (for the record subject strategies). */
  name: string;
}

export function createAvroCodec(options: AvroCodecOptions): AvroCodec {
  if (options === null || typeof options !== 'object') throw new CodecConfigError('options are required');
  const mode = options.mode ?? 'binary';
  if (mode !== 'binary' && mode !== 'structured') throw new CodecConfigError(`mode must be binary or structured, got ${JSON.stringify(mode)}`);
  const requiredCompatibility = options.requiredCompatibility ?? 'BACKWARD_TRANSITIVE';
  if (!isCompatibilityLevel(requiredCompatibility)) {
    throw new CodecConfigError(`requiredCompatibility must be a compatibility level, got ${JSON.stringify(requiredCompatibility)}`);
  }
  const subjectFor = subjectNamer(options.subjectNameStrategy ?? DEFAULT_SUBJECT_NAME_STRATEGY);
  const registry = 'typeById' in options.registry ? options.registry : createRegistryClient(options.registry);
  const enforcer = createSchemaEnforcer({
    registry,
    requiredCompatibility,
    allowWeakerCompatibility: options.allowWeakerCompatibility ?? false,
    autoRegister: options.autoRegister ?? true,
  });

  const objectSchemas = new WeakMap<object, PreparedSchema>();
  const textSchemas = new Map<string, PreparedSchema>();
  const structuredSchemas = new WeakMap<PreparedSchema, PreparedSchema>();
  const writerTypes = new Map<number, avro.Type>();
  const resolvers = new Map<number, WeakMap<avro.Type, avro.Resolver>>();

  const prepared = (schema: AvroSchema): PreparedSchema => {
    const cached = typeof schema === 'string' ? textSchemas.get(schema) : objectSchemas.get(schema);
    if (cached) return cached;
    const result = parseSchema(schema);
    if (typeof schema === 'string') textSchemas.set(schema, result);
    else objectSchemas.set(schema, result);
    return result;
  };

  const envelopeOf = (data: PreparedSchema): PreparedSchema => {
    let envelope = structuredSchemas.get(data);
    if (!envelope) {
      envelope = parseSchema(structuredEnvelopeSchema(data));
      structuredSchemas.set(data, envelope);
    }
    return envelope;
  };

  const wireSchema = (schema: AvroSchema): PreparedSchema => (mode === 'binary' ? prepared(schema) : envelopeOf(prepared(schema)));

  // Schema ids resolved (enforced, registered) per wire schema and topic: encodeIfReady's cache.
  const readyIds = new WeakMap<PreparedSchema, Map<string, number>>();

  const schemaIdFor = async (topic: string, schema: PreparedSchema): Promise<number> => {
    if (typeof topic !== 'string' || topic.length === 0) throw new CodecConfigError('topic must be a non-empty string');
    const id = await enforcer.schemaIdFor(subjectFor(topic, schema.name), schema.text);
    let byTopic = readyIds.get(schema);
    if (!byTopic) readyIds.set(schema, (byTopic = new Map<string, number>()));
    byTopic.set(topic, id);
    return id;
  };

  const writerType = async (schemaId: number): Promise<avro.Type> => {
    let type = writerTypes.get(schemaId);
    if (!type) {
      type = await registry.typeById(schemaId);
      writerTypes.set(schemaId, type);
    }
    return type;
  };

  const resolverFor = (schemaId: number, writer: avro.Type, reader: avro.Type): avro.Resolver => {
    let perReader = resolvers.get(schemaId);
    if (!perReader) resolvers.set(schemaId, (perReader = new WeakMap()));
    let resolver = perReader.get(reader);
    if (!resolver) {
      try {
        resolver = reader.createResolver(writer);
      } catch (error) {
        throw new ReaderSchemaMismatchError(
          `reader schema ${reader.name ?? reader.typeName} cannot read data written with schema id ${schemaId}: ${(error as Error).message}`,
          { cause: error },
        );
      }
      perReader.set(reader, resolver);
    }
    return resolver;
  };

  const decodeValue = async (value: Buffer, reader: avro.Type | undefined): Promise<{ schemaId: number; data: unknown }> => {
    const { schemaId, payload } = parseWire(value);
    const writer = await writerType(schemaId);
    const resolution = reader ? { type: reader, resolver: resolverFor(schemaId, writer, reader) } : undefined;
    try {
      // Every decode goes through the guard: hostile counts and lengths never reach avsc.
      return { schemaId, data: boundedDecode(writer, payload, `for schema id ${schemaId}`, resolution) };
    } catch (error) {
      if (isEvkitError(error)) throw error;
      throw new CorruptPayloadError(`Avro value for schema id ${schemaId} does not decode: ${(error as Error).message}`, {
        cause: error,
      });
    }
  };

  const encodeData = (type: avro.Type, data: unknown, what: string): Buffer => {
    try {
      return type.toBuffer(data);
    } catch (error) {
      const paths: string[] = [];
      type.isValid(data, { errorHook: (path: string[]) => paths.push(path.join('.') || '(root)') });
      throw new InvalidPayloadError(
        `${what} does not match schema ${type.name ?? type.typeName}` +
          (paths.length > 0 ? `: invalid at ${paths.join(', ')}` : `: ${(error as Error).message}`),
        { cause: error },
      );
    }
  };

  /** The record once the schema id is known: all synchronous. */
  const recordOf = (event: CloudEvent<unknown>, schemaForWire: PreparedSchema, schemaId: number): KafkaRecord => {
    if (mode === 'structured') {
      const body = encodeData(schemaForWire.type, structuredBody(event), `event ${event.id}`);
      return {
        key: event.partitionkey ?? null,
        value: Buffer.concat([wireHeader(schemaId), body]),
        headers: { [CONTENT_TYPE_HEADER]: STRUCTURED_AVRO_CONTENT_TYPE },
      };
    }
    if (event.datacontenttype !== undefined && !AVRO_CONTENT_TYPES.test(event.datacontenttype)) {
      throw new UnsupportedContentTypeError(`event ${event.id} has datacontenttype ${event.datacontenttype}; the Avro codec writes Avro`);
    }
    const body = encodeData(schemaForWire.type, event.data, `data of event ${event.id}`);
    const attributes = event.datacontenttype === undefined ? { ...event, datacontenttype: DEFAULT_CONTENT_TYPE } : event;
    return toBinaryRecord(attributes, Buffer.concat([wireHeader(schemaId), body]));
  };

  return {
    async encode(topic, event, schema) {
      const schemaForWire = wireSchema(schema);
      return recordOf(event, schemaForWire, await schemaIdFor(topic, schemaForWire));
    },

    encodeIfReady(topic, event, schema) {
      const schemaForWire = wireSchema(schema);
      const schemaId = readyIds.get(schemaForWire)?.get(topic);
      return schemaId === undefined ? undefined : recordOf(event, schemaForWire, schemaId);
    },

    async decode<T>(record: KafkaRecord, decodeOptions: DecodeOptions = {}): Promise<DecodedRecord<T>> {
      if (record.value === null || record.value.length === 0) {
        throw new MalformedRecordError('record has no value (a tombstone?): nothing to decode');
      }
      const recordMode = bindingModeOf(record.headers);
      const reader = decodeOptions.readerSchema === undefined ? undefined : prepared(decodeOptions.readerSchema);
      if (recordMode === 'binary') {
        const attributes = fromBinaryRecord(record);
        if (attributes.datacontenttype !== undefined && !AVRO_CONTENT_TYPES.test(attributes.datacontenttype)) {
          throw new UnsupportedContentTypeError(`content-type ${attributes.datacontenttype} is not Avro`);
        }
        const { schemaId, data } = await decodeValue(record.value, reader?.type);
        return { event: withData(attributes, data as T), schemaId, mode: recordMode };
      }
      const contentType = headerText(record.headers, CONTENT_TYPE_HEADER)!;
      if (!contentType.toLowerCase().startsWith(STRUCTURED_AVRO_CONTENT_TYPE)) {
        throw new UnsupportedContentTypeError(`structured content-type ${contentType} is not ${STRUCTURED_AVRO_CONTENT_TYPE}`);
      }
      const readerEnvelope = reader ? envelopeOf(reader) : undefined;
      const { schemaId, data } = await decodeValue(record.value, readerEnvelope?.type);
      return { event: eventFromStructured<T>(data), schemaId, mode: recordMode };
    },

    prepare(topic, schema) {
      return schemaIdFor(topic, wireSchema(schema));
    },
  };
}

function parseSchema(schema: AvroSchema): PreparedSchema {
  let json: unknown;
  if (typeof schema === 'string') {
    try {
      json = JSON.parse(schema);
    } catch (error) {
      // A bare primitive name ("string") is valid Avro but not JSON.
      if (!/^"?\w+"?$/.test(schema.trim())) throw new InvalidSchemaError(`schema is not JSON: ${(error as Error).message}`, { cause: error });
      json = schema.trim().replace(/"/g, '');
    }
  } else {
    json = schema;
  }
  let type: avro.Type;
  try {
    type = avro.Type.forSchema(json as avro.Schema);
  } catch (error) {
    throw new InvalidSchemaError(`schema is not valid Avro: ${(error as Error).message}`, { cause: error });
  }
  return { text: typeof schema === 'string' ? schema : JSON.stringify(schema), type, name: type.name ?? '' };
}

// Structured mode: one Avro record holding every attribute and the typed data. Attributes are
// strings (time included) so the event round-trips exactly; optional ones are null-unions.
const OPTIONAL_ATTRIBUTES = KNOWN_ATTRIBUTES.filter((a) => !['id', 'source', 'specversion', 'type'].includes(a));

function structuredEnvelopeSchema(data: PreparedSchema): avro.Schema {
  const dataSchema = JSON.parse(data.text) as avro.Schema;
  // Named after the data type, so RecordNameStrategy gives each event type its own subject;
  // its namespace is the data's, so a data record without a namespace keeps its full name.
  const name = data.name ? `${data.name}CloudEvent` : 'CloudEvent';
  return {
    type: 'record',
    name,
    doc: 'A CloudEvents 1.0.2 event in structured mode (application/cloudevents+avro).',
    fields: [
      { name: 'id', type: 'string' },
      { name: 'source', type: 'string' },
      { name: 'specversion', type: 'string' },
      { name: 'type', type: 'string' },
      ...OPTIONAL_ATTRIBUTES.map((attribute) => ({ name: attribute, type: ['null', 'string'], default: null })),
      { name: 'extensions', type: { type: 'map', values: 'string' }, default: {} },
      { name: 'data', type: dataSchema },
    ],
  };
}

function structuredBody(event: CloudEvent): Record<string, unknown> {
  const body: Record<string, unknown> = { id: event.id, source: event.source, specversion: event.specversion, type: event.type };
  for (const attribute of OPTIONAL_ATTRIBUTES) body[attribute] = event[attribute] ?? null;
  body.extensions = event.extensions;
  body.data = event.data;
  return body;
}

function eventFromStructured<T>(decoded: unknown): CloudEvent<T> {
  const body = decoded as Record<string, unknown>;
  const init: Record<string, unknown> = { extensions: body.extensions ?? {}, data: body.data };
  for (const attribute of KNOWN_ATTRIBUTES) {
    if (body[attribute] !== null && body[attribute] !== undefined) init[attribute] = body[attribute];
  }
  try {
    return validateEvent(init as Parameters<typeof validateEvent<T>>[0]);
  } catch (error) {
    if (error instanceof InvalidEventError) {
      throw new MalformedRecordError(`structured event: ${error.message}`, { cause: error });
    }
    throw error;
  }
}
