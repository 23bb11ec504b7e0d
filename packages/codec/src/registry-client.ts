import * as http from 'node:http';
import * as https from 'node:https';
import type { ConnectionOptions } from 'node:tls';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import * as avro from 'avsc';
import { isCompatibilityLevel, type CompatibilityLevel } from './compatibility';
import {
  CodecConfigError,
  IncompatibleSchemaError,
  RegistryRequestError,
  RegistryResponseTooLargeError,
  RegistryUnavailableError,
  UnknownSchemaIdError,
} from './errors';
import { connectRegistry, RESPONSE_TOO_LARGE } from './registry-connection';

export interface RegistryOptions {
  /** Base URL of a Confluent-compatible API, e.g. `http://127.0.0.1:18081/apis/ccompat/v7` for Apicurio. */
  url: string;
  /** HTTP basic auth. Credentials in the URL are moved here and never echoed. */
  auth?: { username: string; password: string };
  /** TLS to the registry: CA, client certificate and key for mTLS. */
  tls?: Pick<ConnectionOptions, 'ca' | 'cert' | 'key' | 'passphrase' | 'rejectUnauthorized' | 'servername'>;
  /** Timeout of each registry request (ms); past it the call fails as unavailable. Default 10000. */
  timeoutMs?: number;
  /** Send credentials over http:// to a host that is not loopback. Default false: a config error. */
  allowInsecureCredentials?: boolean;
  /** Largest registry response read (bytes); a larger one fails with RegistryResponseTooLargeError. Default 4 MiB. */
  maxResponseBytes?: number;
  /** How long (ms) a schema id the registry does not know stays known as unknown, so a stream of such records costs one request. Default 30000; 0 turns it off. */
  unknownIdCacheMs?: number;
}

/**
 * The registry operations evkit needs. Schemas by id and registration go through
 * @kafkajs/confluent-schema-registry (its cache shares concurrent misses); it has no calls for
 * compatibility levels, version lists or per-version checks, so those are plain REST here.
 */
export interface SchemaRegistryClient {
  /** The URL with any credentials removed, for messages. */
  readonly displayUrl: string;
  /** The writer schema registered under `id`, as an avsc type. */
  typeById(id: number): Promise<avro.Type>;
  /** The id of `schema` under `subject`, or undefined when it is not registered there. */
  lookup(subject: string, schema: string): Promise<number | undefined>;
  /** Registers `schema` under `subject`; `level` must be the subject's level in force. */
  register(subject: string, schema: string, level: CompatibilityLevel): Promise<number>;
  /** The subject's own level, or undefined when it has none (the global one applies). */
  subjectCompatibility(subject: string): Promise<CompatibilityLevel | undefined>;
  globalCompatibility(): Promise<CompatibilityLevel>;
  /**
   * Sets the subject's level; false when the registry refuses because the subject has no version
   * yet (Apicurio can answer 404 there; registration then sets it).
   */
  setSubjectCompatibility(subject: string, level: CompatibilityLevel): Promise<boolean>;
  /** Registered versions, ascending; empty for an unknown subject. */
  versions(subject: string): Promise<number[]>;
  schemaAt(subject: string, version: number): Promise<string>;
  /** The registry's verdict for `schema` against one version under the subject's level. */
  isCompatibleWith(subject: string, version: number, schema: string): Promise<boolean>;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

interface RestResponse {
  status: number;
  body: unknown;
}

/** Unknown ids remembered at most, so random ids cannot grow the memory of misses. */
const MAX_REMEMBERED_MISSES = 10_000;

export function createRegistryClient(options: RegistryOptions): SchemaRegistryClient {
  const { base, auth, secure, agent, scrub } = connectRegistry(options);
  const displayUrl = base.toString();
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new CodecConfigError(`registry.timeoutMs must be a positive integer, got ${String(timeoutMs)}`);
  const missTtlMs = options.unknownIdCacheMs ?? 30_000;
  if (!Number.isInteger(missTtlMs) || missTtlMs < 0) {
    throw new CodecConfigError(`registry.unknownIdCacheMs must be a non-negative integer, got ${String(missTtlMs)}`);
  }
  const misses = new Map<number, number>(); // schema id -> when the miss expires
  const authorization = auth ? `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` : undefined;
  const library = new SchemaRegistry({ host: displayUrl.replace(/\/$/, ''), agent, ...(auth ? { auth } : {}), middlewares: [requestTimeout(timeoutMs)] });

  const rest = (method: string, path: string, body?: unknown): Promise<RestResponse> =>
    new Promise((resolve, reject) => {
      const url = new URL(base.pathname.replace(/\/$/, '') + path, base);
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const request = (secure ? https : http).request(
        url,
        {
          method,
          agent,
          timeout: timeoutMs,
          headers: {
            accept: CONTENT_TYPE,
            ...(payload ? { 'content-type': CONTENT_TYPE, 'content-length': Buffer.byteLength(payload) } : {}),
            ...(authorization ? { authorization } : {}),
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = text.length > 0 ? JSON.parse(text) : undefined;
            } catch {
              // Not JSON (a proxy's error page): keep the text for the message.
            }
            resolve({ status: response.statusCode ?? 0, body: parsed });
          });
          response.on('error', (error) => reject(unavailable(method, path, error)));
        },
      );
      request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      request.on('error', (error) => reject(error instanceof RegistryResponseTooLargeError ? error : unavailable(method, path, error)));
      request.end(payload);
    });

  const unavailable = (method: string, path: string, cause: Error): RegistryUnavailableError =>
    new RegistryUnavailableError(`schema registry ${displayUrl} unreachable (${method} ${path}): ${scrub(cause.message)}`, {
      cause,
      retriable: true,
    });

  /** Maps anything but 2xx to a typed error; `allow404` turns a 404 into undefined. */
  const expectOk = (what: string, response: RestResponse): unknown => {
    if (response.status >= 200 && response.status < 300) return response.body;
    const detail = scrub(
      typeof response.body === 'object' && response.body !== null && 'message' in response.body
        ? String(response.body.message)
        : (JSON.stringify(response.body) ?? ''),
    );
    if (response.status >= 500 || response.status === 0) {
      throw new RegistryUnavailableError(`schema registry ${displayUrl} failed to ${what}: HTTP ${response.status} ${detail}`, {
        retriable: true,
      });
    }
    throw new RegistryRequestError(`schema registry ${displayUrl} refused to ${what}: HTTP ${response.status} ${detail}`);
  };

  const rememberMiss = (id: number) => {
    const now = Date.now();
    misses.delete(id);
    for (const [known, until] of misses) {
      if (misses.size < MAX_REMEMBERED_MISSES && until > now) break;
      misses.delete(known); // oldest first: expired ones, or the oldest when full
    }
    misses.set(id, now + missTtlMs);
  };

  const subjectPath = (subject: string) => `/subjects/${encodeURIComponent(subject)}`;
  const readLevel = (body: unknown, what: string): CompatibilityLevel => {
    // Confluent answers `compatibilityLevel`; some versions and Apicurio paths say `compatibility`.
    const level = body as { compatibilityLevel?: string; compatibility?: string } | undefined;
    const value = (level?.compatibilityLevel ?? level?.compatibility ?? '').toUpperCase();
    if (!isCompatibilityLevel(value)) throw new RegistryRequestError(`schema registry returned no valid ${what}: ${scrub(JSON.stringify(body) ?? '')}`);
    return value;
  };

  return {
    displayUrl,
    async typeById(id) {
      const missUntil = misses.get(id);
      if (missUntil !== undefined && missUntil > Date.now()) throw new UnknownSchemaIdError(id);
      let schema: unknown;
      try {
        schema = await library.getSchema(id);
      } catch (error) {
        const mapped = mapLibraryError(error, `fetch schema id ${id}`, displayUrl, scrub, id);
        if (mapped instanceof UnknownSchemaIdError && missTtlMs > 0) rememberMiss(id);
        throw mapped;
      }
      // The registry decides the schema's type: a JSON or Protobuf schema is no writer for Avro bytes.
      if (!avro.Type.isType(schema)) throw new RegistryRequestError(`schema registry ${displayUrl} returned schema id ${id}, which is not an Avro schema`);
      return schema as avro.Type;
    },
    async lookup(subject, schema) {
      const response = await rest('POST', subjectPath(subject), { schema });
      if (response.status === 404) return undefined;
      return (expectOk(`look up a schema under ${subject}`, response) as { id: number }).id;
    },
    async register(subject, schema, level) {
      try {
        const { id } = await library.register({ type: SchemaType.AVRO, schema }, { subject, compatibility: level as never });
        return id;
      } catch (error) {
        // 409: a version registered since the check (a concurrent deploy) made it incompatible.
        if (statusOf(error) === 409) throw new IncompatibleSchemaError(subject, level, [], { cause: error });
        throw mapLibraryError(error, `register a schema under ${subject}`, displayUrl, scrub);
      }
    },
    async subjectCompatibility(subject) {
      const response = await rest('GET', `/config/${encodeURIComponent(subject)}`);
      if (response.status === 404) return undefined;
      return readLevel(expectOk(`read the compatibility of ${subject}`, response), `compatibility for ${subject}`);
    },
    async globalCompatibility() {
      return readLevel(expectOk('read the global compatibility', await rest('GET', '/config')), 'global compatibility');
    },
    async setSubjectCompatibility(subject, level) {
      const response = await rest('PUT', `/config/${encodeURIComponent(subject)}`, { compatibility: level });
      if (response.status === 404) return false;
      expectOk(`set the compatibility of ${subject}`, response);
      return true;
    },
    async versions(subject) {
      const response = await rest('GET', `${subjectPath(subject)}/versions`);
      if (response.status === 404) return [];
      return (expectOk(`list the versions of ${subject}`, response) as number[]).slice().sort((a, b) => a - b);
    },
    async schemaAt(subject, version) {
      const body = expectOk(`read version ${version} of ${subject}`, await rest('GET', `${subjectPath(subject)}/versions/${version}`));
      return (body as { schema: string }).schema;
    },
    async isCompatibleWith(subject, version, schema) {
      const response = await rest('POST', `/compatibility${subjectPath(subject)}/versions/${version}`, { schema });
      return (expectOk(`check ${subject} version ${version}`, response) as { is_compatible: boolean }).is_compatible === true;
    },
  };
}

type LibraryMiddleware = NonNullable<ConstructorParameters<typeof SchemaRegistry>[0]['middlewares']>[number];

/**
 * The library sets no timeout, so a registry that accepts connections but never answers hangs
 * its calls for good; mappersmith, under it, aborts a request whose `timeout` passes.
 */
function requestTimeout(timeoutMs: number): LibraryMiddleware {
  return () => ({ prepareRequest: (next) => next().then((request) => request.enhance({ timeout: timeoutMs })) });
}

/**
 * What went wrong when no HTTP answer came (timeout, refused, reset). mappersmith reports that
 * as status 400 with the socket error as its data, which the library's message shows after
 * "Error, status 400: "; the registry's own 4xx answers carry a JSON message instead.
 */
function withoutAnswer(error: unknown): string | undefined {
  const message = error instanceof Error ? error.message : '';
  const marker = ' - Error, status 400: ';
  return statusOf(error) === 400 && message.includes(marker) ? message.slice(message.indexOf(marker) + marker.length) : undefined;
}

/** The library's errors carry an HTTP status when the registry answered. */
function statusOf(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null && 'status' in error ? Number(error.status) : undefined;
}

function mapLibraryError(error: unknown, what: string, displayUrl: string, scrub: (text: string) => string, schemaId?: number): Error {
  const status = statusOf(error);
  const message = scrub(error instanceof Error ? error.message : String(error));
  const failure = withoutAnswer(error);
  if (failure?.startsWith(RESPONSE_TOO_LARGE)) {
    return new RegistryResponseTooLargeError(`schema registry ${displayUrl}: ${failure} (${what})`, { cause: error });
  }
  if (failure !== undefined) {
    return new RegistryUnavailableError(`schema registry ${displayUrl} unreachable (${what}): ${scrub(failure)}`, { cause: error, retriable: true });
  }
  if (status === 404 && schemaId !== undefined) return new UnknownSchemaIdError(schemaId);
  if (status !== undefined && status >= 400 && status < 500) {
    return new RegistryRequestError(`schema registry ${displayUrl} refused to ${what}: HTTP ${status} ${message}`, { cause: error });
  }
  return new RegistryUnavailableError(`schema registry ${displayUrl} failed to ${what}: ${message}`, { cause: error, retriable: true });
}
