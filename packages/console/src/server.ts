import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import * as path from 'node:path';
import { errorMessageOf, isEvkitError, redactSecrets } from '@evkit/errors';
import { BadRequest, createActions, parseActionRequest, parseTopic } from './actions';
import type { ConsoleData } from './data';
import { ConsoleListenError } from './errors';
import type { ResolvedOptions } from './options';
import { createRequestGuard, TOKEN_COOKIE, type RequestGuard } from './security';

// The console's HTTP face: three static files shipped in the package, and a JSON API. Nothing
// is loaded from anywhere else (the Content-Security-Policy says so to the browser too).

/** The package's assets folder: beside dist/ when built, beside src/ under ts-jest. */
const ASSETS = path.resolve(__dirname, '..', 'assets');
const STATIC: Record<string, string> = { '/assets/app.js': 'text/javascript', '/assets/style.css': 'text/css', '/assets/favicon.svg': 'image/svg+xml' };
const MAX_BODY_BYTES = 256 * 1024;

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

function send(res: ServerResponse, status: number, body: string | Buffer, type: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, ...extra });
  res.end(body);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, JSON.stringify(body, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)), 'application/json; charset=utf-8');
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BadRequest('request body too large');
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new BadRequest('request body is not JSON');
  }
}

const escapeAttribute = (text: string) => text.replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`);

export interface ConsoleServer {
  listen(): Promise<string>;
  close(): Promise<void>;
}

export function createConsoleServer(options: ResolvedOptions, data: ConsoleData, guard: RequestGuard = createRequestGuard({ host: options.host, loopback: options.loopback, token: options.token })): ConsoleServer {
  const actions = createActions(data.replayer);

  const page = async (res: ServerResponse) => {
    const html = await readFile(path.join(ASSETS, 'index.html'), 'utf8');
    send(res, 200, html.replace('{{CSRF_TOKEN}}', escapeAttribute(guard.csrfToken)), 'text/html; charset=utf-8');
  };

  const get = async (url: URL, res: ServerResponse): Promise<void> => {
    switch (url.pathname) {
      case '/api/info':
        return json(res, 200, { ...data.info(), loopback: options.loopback, tokenRequired: options.token !== undefined });
      case '/api/dlq':
        return json(res, 200, await data.deadLetterTopics());
      case '/api/dlq/records':
        return json(res, 200, await data.records(parseTopic(url.searchParams.get('topic'))));
      case '/api/dlq/groups':
        return json(res, 200, await data.replayer.groups(parseTopic(url.searchParams.get('topic'))));
      case '/api/lag':
        return json(res, 200, data.lag());
      case '/api/schemas/subjects':
        return json(res, 200, await data.subjects());
      case '/api/schemas/history': {
        const subject = url.searchParams.get('subject');
        if (!subject || subject.length > 512) throw new BadRequest('subject is required');
        return json(res, 200, await data.schemaHistory(subject));
      }
      default: {
        const job = /^\/api\/jobs\/([0-9a-f-]{36})$/.exec(url.pathname);
        if (job) {
          const found = actions.job(job[1]!);
          return found ? json(res, 200, found) : json(res, 404, { error: 'no such job' });
        }
        return json(res, 404, { error: 'not found' });
      }
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const refused = guard.checkAccess(req.headers);
    const url = new URL(req.url ?? '/', 'http://console.invalid');
    // The one way in with a token in the URL: it becomes an HttpOnly cookie and leaves the address bar.
    const login = url.pathname === '/' ? url.searchParams.get('token') : null;
    if (login !== null && refused?.status === 401 && guard.isToken(login)) {
      return send(res, 303, '', 'text/plain', { location: '/', 'set-cookie': `${TOKEN_COOKIE}=${encodeURIComponent(login)}; HttpOnly; SameSite=Strict; Path=/` });
    }
    if (refused) return json(res, refused.status, { error: refused.message });
    if (url.pathname.startsWith('/api/actions/')) {
      const bad = guard.checkMutation(req.method, req.headers);
      if (bad) return json(res, bad.status, { error: bad.message });
      const request = parseActionRequest(await readJson(req));
      if (url.pathname === '/api/actions/preview') return json(res, 200, await actions.preview(request));
      if (url.pathname === '/api/actions/run') return json(res, 202, actions.start(request));
      return json(res, 404, { error: 'not found' });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'method not allowed' });
    if (url.pathname === '/' || url.pathname === '/index.html') return page(res);
    const type = STATIC[url.pathname];
    if (type !== undefined) return send(res, 200, await readFile(path.join(ASSETS, path.basename(url.pathname))), type);
    return get(url, res);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const status = error instanceof BadRequest || (isEvkitError(error) && /INVALID_OPTIONS$/.test(error.code)) ? 400 : 500;
      if (!res.headersSent) json(res, status, { error: redactSecrets(errorMessageOf(error)).slice(0, 2048), ...(isEvkitError(error) ? { code: error.code } : {}) });
      else res.end();
    });
  });

  return {
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', (error) => reject(new ConsoleListenError(`could not listen on ${options.host}:${options.port}: ${errorMessageOf(error)}`, { cause: error })));
        server.listen(options.port, options.host, () => {
          const address = server.address();
          const port = typeof address === 'object' && address ? address.port : options.port;
          guard.listening(port);
          resolve(`http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}/`);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
