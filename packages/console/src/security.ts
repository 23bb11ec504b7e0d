import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

// Who may use the console, and how a page elsewhere is kept from using it through the browser:
// - Host, on loopback: only the loopback names, so a DNS-rebinding page cannot talk to it. Off
//   loopback the console is reached by whatever name the network gives it; the token guards it.
// - Token (required off loopback): a cookie set from `/?token=` (then dropped from the URL), or
//   `Authorization: Bearer`. Compared in constant time.
// - State changes are POSTs carrying JSON, the page's Origin, and `X-Evkit-Csrf`: a per-process
//   secret embedded in the page, which no other origin can read.

export const CSRF_HEADER = 'x-evkit-csrf';
export const TOKEN_COOKIE = 'evkit_console_token';

export interface Refusal {
  status: number;
  message: string;
}

export interface RequestGuard {
  /** The secret embedded in the page for state-changing requests. */
  readonly csrfToken: string;
  /** Sets the port once listening (0 resolves to the real one). */
  listening(port: number): void;
  /** Every request: the Host header and, when a token is configured, the token. */
  checkAccess(headers: IncomingHttpHeaders): Refusal | undefined;
  /** State-changing requests, after `checkAccess`: method, content type, Origin, CSRF header. */
  checkMutation(method: string | undefined, headers: IncomingHttpHeaders): Refusal | undefined;
  /** Whether `candidate` is the configured token (for the `/?token=` login). */
  isToken(candidate: string): boolean;
}

function same(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function cookie(headers: IncomingHttpHeaders, name: string): string | undefined {
  for (const part of (headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

export function createRequestGuard(options: { host: string; loopback: boolean; token: string | undefined; csrfToken?: string }): RequestGuard {
  const csrfToken = options.csrfToken ?? randomBytes(32).toString('base64url');
  let hosts = new Set<string>();
  const bracket = (host: string) => (host.includes(':') ? `[${host}]` : host);
  return {
    csrfToken,
    listening(port) {
      hosts = new Set(['127.0.0.1', 'localhost', '[::1]', bracket(options.host)].map((name) => `${name}:${port}`.toLowerCase()));
    },
    checkAccess(headers) {
      if (options.loopback && !hosts.has((headers.host ?? '').toLowerCase())) return { status: 421, message: 'unexpected Host header' };
      if (options.token === undefined) return undefined;
      const bearer = /^Bearer (.+)$/.exec(headers.authorization ?? '')?.[1];
      const given = bearer ?? cookie(headers, TOKEN_COOKIE);
      return given !== undefined && same(given, options.token) ? undefined : { status: 401, message: 'a token is required: open the console with /?token=<token>' };
    },
    checkMutation(method, headers) {
      if (method !== 'POST') return { status: 405, message: 'state changes are POSTs' };
      if (!/^application\/json(;|$)/i.test(headers['content-type'] ?? '')) return { status: 415, message: 'send application/json' };
      // Browsers send Origin on every cross-origin request and on same-origin POSTs.
      if (headers.origin !== `http://${headers.host ?? ''}`) return { status: 403, message: 'cross-origin request refused' };
      const given = headers[CSRF_HEADER];
      if (typeof given !== 'string' || !same(given, csrfToken)) return { status: 403, message: 'missing or wrong CSRF token' };
      return undefined;
    },
    isToken: (candidate) => options.token !== undefined && same(candidate, options.token),
  };
}
