import { createRequestGuard, CSRF_HEADER } from './security';

const TOKEN = 'a-long-console-token-0123456789';

describe('createRequestGuard', () => {
  it('on loopback, takes only loopback Host names on its port', () => {
    const guard = createRequestGuard({ host: '127.0.0.1', loopback: true, token: undefined });
    guard.listening(7070);
    expect(guard.checkAccess({ host: '127.0.0.1:7070' })).toBeUndefined();
    expect(guard.checkAccess({ host: 'localhost:7070' })).toBeUndefined();
    expect(guard.checkAccess({ host: 'rebound.attacker.example:7070' })).toEqual({ status: 421, message: 'unexpected Host header' });
    expect(guard.checkAccess({ host: '127.0.0.1:8080' })?.status).toBe(421);
  });

  it('off loopback, takes any Host but only with the token', () => {
    const guard = createRequestGuard({ host: '0.0.0.0', loopback: false, token: TOKEN });
    guard.listening(7070);
    expect(guard.checkAccess({ host: 'ops-box.internal:7070' })?.status).toBe(401);
    expect(guard.checkAccess({ host: 'ops-box.internal:7070', authorization: 'Bearer wrong' })?.status).toBe(401);
    expect(guard.checkAccess({ host: 'ops-box.internal:7070', authorization: `Bearer ${TOKEN}` })).toBeUndefined();
    expect(guard.checkAccess({ host: 'ops-box.internal:7070', cookie: `a=b; evkit_console_token=${TOKEN}` })).toBeUndefined();
  });

  it('a state change needs POST, JSON, the same Origin and the CSRF secret', () => {
    const guard = createRequestGuard({ host: '127.0.0.1', loopback: true, token: undefined });
    const ok = { host: '127.0.0.1:7070', origin: 'http://127.0.0.1:7070', 'content-type': 'application/json', [CSRF_HEADER]: guard.csrfToken };
    expect(guard.checkMutation('POST', ok)).toBeUndefined();
    expect(guard.checkMutation('GET', ok)?.status).toBe(405);
    expect(guard.checkMutation('POST', { ...ok, 'content-type': 'application/x-www-form-urlencoded' })?.status).toBe(415);
    expect(guard.checkMutation('POST', { ...ok, origin: 'null' })?.status).toBe(403);
    expect(guard.checkMutation('POST', { ...ok, origin: undefined })?.status).toBe(403);
    expect(guard.checkMutation('POST', { ...ok, [CSRF_HEADER]: 'guess' })?.status).toBe(403);
    expect(createRequestGuard({ host: '127.0.0.1', loopback: true, token: undefined }).csrfToken).not.toBe(guard.csrfToken);
  });
});
