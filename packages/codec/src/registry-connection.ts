import * as http from 'node:http';
import * as https from 'node:https';
import { isIP } from 'node:net';
import { boundedText } from '@evkit/errors';
import { CodecConfigError, RegistryResponseTooLargeError } from './errors';
import type { RegistryOptions } from './registry-client';

// How evkit connects to the registry: the URL checked and split from its credentials, an agent
// that bounds every response, and the scrubbing of every text an error repeats.

export const DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

export interface RegistryConnection {
  /** Base URL, ending in `/`, without credentials; no query string is allowed. */
  base: URL;
  auth: RegistryOptions['auth'];
  secure: boolean;
  agent: http.Agent;
  /** Text from a registry answer or a library error, fit for a message: secrets gone, length bounded. */
  scrub: (text: string) => string;
}

export function connectRegistry(options: RegistryOptions): RegistryConnection {
  const { base, auth } = parseRegistryUrl(options);
  const secure = base.protocol === 'https:';
  if (!secure && options.tls !== undefined) {
    throw new CodecConfigError('registry.tls is set but registry.url is http://: use https:// or drop tls');
  }
  if (!secure && auth && !isLoopback(base.hostname) && options.allowInsecureCredentials !== true) {
    throw new CodecConfigError(
      `registry credentials would cross the network in clear text to ${base.host}: use https://, ` +
        'or set registry.allowInsecureCredentials to send them over http://',
    );
  }
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  if (!Number.isInteger(maxResponseBytes) || maxResponseBytes < 1) {
    throw new CodecConfigError(`registry.maxResponseBytes must be a positive integer, got ${String(maxResponseBytes)}`);
  }
  const secrets = auth ? [auth.password, Buffer.from(`${auth.username}:${auth.password}`).toString('base64')].filter((s) => s.length > 0) : [];
  return {
    base,
    auth,
    secure,
    agent: boundedAgent(secure, options.tls, maxResponseBytes),
    scrub: (text) => boundedText(secrets.reduce((out, secret) => out.split(secret).join('***'), text)),
  };
}

/** Splits credentials out of the URL so they never reach a message. */
function parseRegistryUrl(options: RegistryOptions): { base: URL; auth: RegistryOptions['auth'] } {
  if (typeof options?.url !== 'string' || options.url.length === 0) {
    throw new CodecConfigError('registry.url is required');
  }
  let base: URL;
  try {
    base = new URL(options.url);
  } catch {
    throw new CodecConfigError('registry.url is not a URL');
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new CodecConfigError(`registry.url must be http or https, got ${base.protocol}`);
  }
  // Neither request path would carry it, and it often holds a key: refused, never repeated.
  if (base.search !== '' || base.hash !== '') {
    throw new CodecConfigError('registry.url must not carry a query string or fragment (not shown here); give credentials as registry.auth');
  }
  let auth = options.auth;
  if (base.username || base.password) {
    auth ??= { username: decodeURIComponent(base.username), password: decodeURIComponent(base.password) };
    base.username = '';
    base.password = '';
  }
  if (!base.pathname.endsWith('/')) base.pathname += '/';
  return { base, auth };
}

/** 127.0.0.0/8, ::1 and localhost: credentials sent there never leave the machine. */
export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/**
 * An agent that ends any response larger than `maxBytes` (by its Content-Length, or as it
 * arrives): both evkit's own requests and @kafkajs/confluent-schema-registry's go through it,
 * and the library would otherwise buffer whatever a registry or a proxy sends. The request fails
 * with RegistryResponseTooLargeError; the library reports it by its message.
 */
function boundedAgent(secure: boolean, tls: RegistryOptions['tls'], maxBytes: number): http.Agent {
  const limit = (request: http.ClientRequest) =>
    request.once('response', (response: http.IncomingMessage) => {
      const tooLarge = () => request.destroy(new RegistryResponseTooLargeError(`${RESPONSE_TOO_LARGE} ${maxBytes} bytes`));
      if (Number(response.headers['content-length'] ?? 0) > maxBytes) return tooLarge();
      let received = 0;
      // The library reads text: its chunks are strings, counted in characters (a byte or more each).
      response.on('data', (chunk: Buffer | string) => {
        received += chunk.length;
        if (received > maxBytes) tooLarge();
      });
    });
  // addRequest is where Node hands each request to its agent: the one hook the library's requests pass.
  type AddRequest = (request: http.ClientRequest, options: unknown) => void;
  const agent = secure ? new https.Agent({ keepAlive: true, ...tls }) : new http.Agent({ keepAlive: true });
  const addRequest = (agent as unknown as { addRequest: AddRequest }).addRequest.bind(agent);
  (agent as unknown as { addRequest: AddRequest }).addRequest = (request, requestOptions) => {
    limit(request);
    addRequest(request, requestOptions);
  };
  return agent;
}

/** How a too-large response reads in a message, also once the library has rewrapped it. */
export const RESPONSE_TOO_LARGE = 'registry response larger than';
