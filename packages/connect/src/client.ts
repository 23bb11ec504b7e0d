import { redactUrl } from '@evkit/errors';
import { ConnectConfigError, ConnectorNotFoundError, ConnectRequestError, ConnectUnavailableError } from './errors';

// Kafka Connect's REST API (https://kafka.apache.org/documentation/#connect_rest), typed. Shapes
// keep Connect's own field names (`worker_id`, `error_count`) so its documentation applies as is.

export type ConnectorState = 'RUNNING' | 'PAUSED' | 'STOPPED' | 'FAILED' | 'UNASSIGNED' | 'RESTARTING';

/** Connect takes every config value as a string. */
export type ConnectorConfig = Record<string, string>;

export interface ConnectorInfo {
  name: string;
  config: ConnectorConfig;
  tasks: { connector: string; task: number }[];
  type: 'source' | 'sink' | 'unknown';
}

export interface TaskStatus {
  id: number;
  state: ConnectorState;
  worker_id: string;
  /** The Java stack trace of a FAILED task. */
  trace?: string;
}

export interface ConnectorStatus {
  name: string;
  connector: { state: ConnectorState; worker_id: string; trace?: string };
  tasks: TaskStatus[];
  type: 'source' | 'sink' | 'unknown';
}

export interface ConnectorPlugin {
  class: string;
  type: 'source' | 'sink' | 'transformation' | 'predicate' | 'converter' | 'header_converter';
  version?: string;
}

export interface ConfigValidation {
  name: string;
  error_count: number;
  groups: string[];
  configs: {
    definition: { name: string; type: string; required: boolean; default_value: string | null; documentation: string };
    value: { name: string; value: string | null; recommended_values: string[]; errors: string[]; visible: boolean };
  }[];
}

export interface ServerInfo {
  version: string;
  commit: string;
  kafka_cluster_id: string;
}

export interface RestartOptions {
  /** Restart the tasks too. Default false (Connect's default). */
  includeTasks?: boolean;
  /** Only the instances that are FAILED. Default false. */
  onlyFailed?: boolean;
}

export interface ConnectClientOptions {
  /** The worker's REST URL, e.g. `http://127.0.0.1:8083`. Credentials in it are moved to `auth`. */
  url: string;
  /** HTTP basic auth (Connect's `rest.extension.classes` JAAS setup). Never appears in messages. */
  auth?: { username: string; password: string };
  /** Per-request timeout. Default 30 s: Connect itself answers 500 after 90 s. */
  timeoutMs?: number;
}

export interface ConnectClient {
  /** The URL without credentials, for messages. */
  readonly url: string;
  serverInfo(): Promise<ServerInfo>;
  listConnectors(): Promise<string[]>;
  getConnector(name: string): Promise<ConnectorInfo>;
  getConnectorConfig(name: string): Promise<ConnectorConfig>;
  connectorStatus(name: string): Promise<ConnectorStatus>;
  /** Creates the connector or replaces its config (PUT /connectors/{name}/config). */
  putConnectorConfig(name: string, config: ConnectorConfig): Promise<{ created: boolean; connector: ConnectorInfo }>;
  /** Resolves with the status Connect answers when `includeTasks` or `onlyFailed` is set. */
  restartConnector(name: string, options?: RestartOptions): Promise<ConnectorStatus | undefined>;
  pauseConnector(name: string): Promise<void>;
  resumeConnector(name: string): Promise<void>;
  deleteConnector(name: string): Promise<void>;
  /** Connector plugins; with `connectorsOnly: false` also transformations, predicates and converters. */
  connectorPlugins(options?: { connectorsOnly?: boolean }): Promise<ConnectorPlugin[]>;
  /** Validates a config against a connector plugin (its class or short name) without creating anything. */
  validateConfig(pluginClass: string, config: ConnectorConfig): Promise<ConfigValidation>;
}

export function createConnectClient(options: ConnectClientOptions): ConnectClient {
  if (options === null || typeof options !== 'object') throw new ConnectConfigError('options are required');
  const { base, authorization } = parseUrl(options);
  const url = base.toString().replace(/\/$/, '');
  // As messages show it: user info is gone already, secret query parameters are masked too.
  const shownUrl = redactUrl(url);
  const timeoutMs = options.timeoutMs ?? 30_000;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new ConnectConfigError(`timeoutMs must be a positive integer, got ${String(timeoutMs)}`);

  /** One request; `connector` names the connector a 404 means is missing. */
  const request = async <T>(method: string, path: string, body?: unknown, connector?: string): Promise<{ status: number; body: T }> => {
    const what = `${method} ${shownUrl}${path}`;
    let response: Response;
    try {
      response = await fetch(url + path, {
        method,
        headers: {
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(authorization ? { authorization } : {}),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const reason = (error as { name?: unknown }).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : causeOf(error);
      throw new ConnectUnavailableError(`${what}: Kafka Connect unreachable: ${reason}`, { cause: error });
    }
    const text = await response.text();
    const parsed = text.length === 0 ? undefined : parseJson(text);
    if (response.ok) return { status: response.status, body: parsed as T };
    const restMessage = (parsed as { message?: unknown } | undefined)?.message;
    const detail = typeof restMessage === 'string' ? restMessage : text.slice(0, 500);
    if (response.status === 404 && connector !== undefined) throw new ConnectorNotFoundError(connector, shownUrl);
    if (response.status >= 502 && response.status <= 504) {
      throw new ConnectUnavailableError(`${what}: Kafka Connect unavailable (${response.status}): ${detail}`);
    }
    throw new ConnectRequestError(`${what}: ${response.status} ${detail}`, response.status, typeof restMessage === 'string' ? restMessage : undefined);
  };

  const connectorPath = (name: string, suffix = ''): string => {
    if (typeof name !== 'string' || name.length === 0) throw new ConnectConfigError('connector name must be a non-empty string');
    return `/connectors/${encodeURIComponent(name)}${suffix}`;
  };

  return {
    url,
    serverInfo: async () => (await request<ServerInfo>('GET', '/')).body,
    listConnectors: async () => (await request<string[]>('GET', '/connectors')).body,
    getConnector: async (name) => (await request<ConnectorInfo>('GET', connectorPath(name), undefined, name)).body,
    getConnectorConfig: async (name) => (await request<ConnectorConfig>('GET', connectorPath(name, '/config'), undefined, name)).body,
    connectorStatus: async (name) => (await request<ConnectorStatus>('GET', connectorPath(name, '/status'), undefined, name)).body,
    async putConnectorConfig(name, config) {
      const { status, body } = await request<ConnectorInfo>('PUT', connectorPath(name, '/config'), config);
      return { created: status === 201, connector: body };
    },
    async restartConnector(name, { includeTasks = false, onlyFailed = false } = {}) {
      const query = `?includeTasks=${includeTasks}&onlyFailed=${onlyFailed}`;
      return (await request<ConnectorStatus | undefined>('POST', connectorPath(name, `/restart${query}`), undefined, name)).body;
    },
    async pauseConnector(name) {
      await request('PUT', connectorPath(name, '/pause'), undefined, name);
    },
    async resumeConnector(name) {
      await request('PUT', connectorPath(name, '/resume'), undefined, name);
    },
    async deleteConnector(name) {
      await request('DELETE', connectorPath(name), undefined, name);
    },
    connectorPlugins: async ({ connectorsOnly = true } = {}) =>
      (await request<ConnectorPlugin[]>('GET', `/connector-plugins?connectorsOnly=${connectorsOnly}`)).body,
    async validateConfig(pluginClass, config) {
      if (typeof pluginClass !== 'string' || pluginClass.length === 0) throw new ConnectConfigError('pluginClass must be a non-empty string');
      return (await request<ConfigValidation>('PUT', `/connector-plugins/${encodeURIComponent(pluginClass)}/config/validate`, config)).body;
    },
  };
}

function parseUrl(options: ConnectClientOptions): { base: URL; authorization: string | undefined } {
  let base: URL;
  try {
    base = new URL(options.url);
  } catch {
    // The text may carry credentials, so it is not echoed.
    throw new ConnectConfigError('url must be an absolute http(s) URL of the Connect REST API');
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new ConnectConfigError(`url must be http or https, got ${base.protocol}`);
  let auth = options.auth;
  if (base.username || base.password) {
    auth ??= { username: decodeURIComponent(base.username), password: decodeURIComponent(base.password) };
    base.username = '';
    base.password = '';
  }
  const authorization = auth ? `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` : undefined;
  return { base, authorization };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined; // an HTML error page from a proxy: the status and raw text tell the story
  }
}

/**
 * Node's fetch wraps the socket error (ECONNREFUSED...) as `cause` of a bare "fetch failed".
 * Duck-typed: errors from fetch's own realm are not instances of this one's Error (under Jest).
 */
function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown; errors?: unknown } } | undefined)?.cause;
  if (cause === undefined || cause === null) return String((error as { message?: unknown })?.message ?? error);
  if (Array.isArray(cause.errors) && cause.errors.length > 0) return cause.errors.map((inner: unknown) => causeOf({ cause: inner })).join('; ');
  return typeof cause.code === 'string' ? cause.code : String(cause.message);
}
