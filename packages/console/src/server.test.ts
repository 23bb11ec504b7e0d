import { request } from 'node:http';
import type { Replayer } from '@evkit/retry';
import type { ConsoleData } from './data';
import { resolveOptions, type ConsoleOptions } from './options';
import { createRequestGuard } from './security';
import { createConsoleServer, type ConsoleServer } from './server';

// The HTTP face against fake data: who gets in, what a state change needs, and that no
// credential leaves in a page or a response.

const TOKEN = 'a-long-console-token-0123456789';
const CSRF = 'csrf-secret-for-tests';

function fakeData(replayer: Partial<Replayer> = {}): ConsoleData {
  return {
    replayer: replayer as Replayer,
    info: () => ({ brokers: ['127.0.0.1:19092'], registry: 'http://svc:***@registry.example/apis' }),
    deadLetterTopics: () => Promise.resolve([]),
    records: () => Promise.resolve([]),
    lag: () => ({ groups: [], history: {}, sampledAt: null, error: null }),
    sampleLag: () => Promise.resolve(),
    subjects: () => Promise.resolve(['orders-value']),
    schemaHistory: () => Promise.reject(new Error('registry at http://svc:hunter2@registry.example failed; password=hunter2')),
    close: () => Promise.resolve(),
  };
}

const options = (extra: Partial<ConsoleOptions> = {}) =>
  resolveOptions({
    kafka: { brokers: ['127.0.0.1:19092'] },
    registry: { url: 'http://127.0.0.1:18081' },
    lag: () => Promise.resolve({ groupId: 'g', state: 'Stable', partitions: [] }),
    diffSchemas: () => [],
    port: 0,
    ...extra,
  });

let server: ConsoleServer | undefined;
afterEach(() => server?.close());

async function start(extra: Partial<ConsoleOptions> = {}, data = fakeData()) {
  const resolved = options(extra);
  server = createConsoleServer(resolved, data, createRequestGuard({ host: resolved.host, loopback: resolved.loopback, token: resolved.token, csrfToken: CSRF }));
  const url = await server.listen();
  const origin = url.replace(/\/$/, '');
  const host = new URL(url).host;
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${origin}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', origin, 'x-evkit-csrf': CSRF, ...headers }, body: JSON.stringify(body) });
  return { origin, host, post };
}

describe('the console server', () => {
  it('serves the page with the CSRF token in it and a strict content security policy', async () => {
    const { origin } = await start();
    const response = await fetch(`${origin}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toMatch(/default-src 'none'; script-src 'self'/);
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    const html = await response.text();
    expect(html).toContain(`<meta name="evkit-csrf" content="${CSRF}">`);
    // Nothing from elsewhere: no absolute URL in a src or href.
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    for (const asset of ['/assets/app.js', '/assets/style.css']) {
      const text = await (await fetch(`${origin}${asset}`)).text();
      expect(text).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    }
  });

  it('refuses a Host it does not listen on (DNS rebinding)', async () => {
    const { origin } = await start();
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${origin}/api/info`, { headers: { host: 'attacker.example' } }, (res) => resolve(res.statusCode ?? 0));
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(421);
  });

  it('needs Origin, JSON and the CSRF header for a state change; GET cannot change anything', async () => {
    const preview = jest.fn(() => Promise.resolve({ matched: 0, replayed: 0, destinations: {}, entries: [], dryRun: true, replayGroup: 'g', scanned: 0 }));
    const { origin, post } = await start({}, fakeData({ replay: preview }));
    const body = { topic: 'orders.shipping.dlq', kind: 'replay', selection: {} };
    expect((await post('/api/actions/preview', body, { 'x-evkit-csrf': 'wrong' })).status).toBe(403);
    expect((await post('/api/actions/preview', body, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await post('/api/actions/preview', body, { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await fetch(`${origin}/api/actions/run`)).status).toBe(405);
    expect(preview).not.toHaveBeenCalled();
    const ok = await post('/api/actions/preview', body);
    expect(ok.status).toBe(200);
    expect(preview).toHaveBeenCalledWith('orders.shipping.dlq', {}, expect.objectContaining({ dryRun: true }));
  });

  it('validates the action request: topic names, kinds, a park reason, selection fields', async () => {
    const { post } = await start({}, fakeData({ replay: jest.fn(), park: jest.fn() }));
    const refused = async (body: unknown) => (await (await post('/api/actions/preview', body)).json()) as { error: string };
    expect(await refused({ topic: '../etc', kind: 'replay' })).toEqual({ error: 'topic must be a Kafka topic name' });
    expect(await refused({ topic: 't.dlq', kind: 'delete' })).toEqual({ error: 'kind must be replay or park' });
    expect(await refused({ topic: 't.dlq', kind: 'park' })).toEqual({ error: 'a park needs a reason' });
    expect(await refused({ topic: 't.dlq', kind: 'replay', selection: { toOffset: '9' } })).toEqual({ error: 'unknown selection field toOffset' });
  });

  it('with a token, refuses requests without it; /?token= sets an HttpOnly cookie and drops it from the URL', async () => {
    const { origin } = await start({ token: TOKEN });
    expect((await fetch(`${origin}/api/info`)).status).toBe(401);
    expect((await fetch(`${origin}/?token=wrong-token-0000000000`, { redirect: 'manual' })).status).toBe(401);
    const login = await fetch(`${origin}/?token=${TOKEN}`, { redirect: 'manual' });
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe('/');
    const cookie = login.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly; SameSite=Strict/);
    expect((await fetch(`${origin}/api/info`, { headers: { cookie: cookie.split(';')[0]! } })).status).toBe(200);
    expect((await fetch(`${origin}/api/info`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
  });

  it('puts no credential in a response: URLs are redacted and error messages scrubbed', async () => {
    const { origin } = await start();
    const info = await (await fetch(`${origin}/api/info`)).text();
    expect(info).not.toContain('hunter2');
    const failed = await fetch(`${origin}/api/schemas/history?subject=orders-value`);
    expect(failed.status).toBe(500);
    const text = await failed.text();
    expect(text).toContain('registry');
    expect(text).not.toContain('hunter2');
  });
});
