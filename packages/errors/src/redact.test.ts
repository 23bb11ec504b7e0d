import { EvkitError } from './evkit-error';
import { boundedErrorText, boundedText, errorMessageOf, ERROR_TEXT_LIMIT, redactSecrets, redactUrl, terminalErrorText } from './redact';

describe('redactSecrets', () => {
  it.each([
    ['URL user info', 'connect to postgres://svc:hunter2@db:5432/x failed', 'connect to postgres://***:***@db:5432/x failed'],
    ['URL with an empty user', 'postgres://:hunter2@db/app', 'postgres://***:***@db/app'],
    ['URL password holding @', 'postgres://u:p@ss@host/db', 'postgres://***:***@host/db'],
    ['URL user alone (a token)', 'https://ghp_abc123@github.com/x', 'https://***:***@github.com/x'],
    ['user info without a scheme', 'dial svc:hunter2@10.0.0.5:5432 refused', 'dial ***:***@10.0.0.5:5432 refused'],
    ['user info without a scheme, password holding @', 'dial svc:p@ss@10.0.0.5:5432', 'dial ***:***@10.0.0.5:5432'],
    ['PGPASSWORD', 'env PGPASSWORD=hunter2 psql', 'env PGPASSWORD=*** psql'],
    ['DB_PASSWORD', 'DB_PASSWORD=hunter2', 'DB_PASSWORD=***'],
    ['pass=', 'login pass=hunter2 user=svc', 'login pass=*** user=svc'],
    ['password=', 'login failed password=hunter2 for user', 'login failed password=*** for user'],
    ['password: (YAML, spaced)', 'password: hunter2', 'password: ***'],
    ['secret=', 'client_secret=hunter2;x=1', 'client_secret=***;x=1'],
    ['token= in a query string', 'GET /x?token=abc&x=1', 'GET /x?token=***&x=1'],
    ['api_key= in a query string', 'GET /x?api_key=abc&y=2', 'GET /x?api_key=***&y=2'],
    ['apikey= in a query string', 'GET /x?apikey=abc', 'GET /x?apikey=***'],
    ['JSON password', '{"user":"svc","password":"hun ter2"}', '{"user":"svc","password":"***"}'],
    ['JSON apiKey, spaced', '{"apiKey": "abc123"}', '{"apiKey": "***"}'],
    ['single-quoted value', "password='hun ter2'", "password='***'"],
    ['Authorization: Basic', 'Authorization: Basic dXNlcjpodW50ZXIy', 'Authorization: Basic ***'],
    ['Authorization: Bearer', 'Authorization: Bearer eyJhbGciOi.xyz', 'Authorization: Bearer ***'],
    ['authorization as a JSON key', '{"authorization":"Bearer abc"}', '{"authorization":"Bearer ***"}'],
    ['a bare Bearer token', 'sent Bearer eyJhbGciOi.xyz to /api', 'sent Bearer *** to /api'],
  ])('%s', (_shape, input, expected) => {
    expect(redactSecrets(input)).toBe(expected);
    expect(redactSecrets(input)).not.toMatch(/hunter2|hun ter2|abc123|eyJhbGciOi|dXNlcjpodW50ZXIy|ghp_abc123/);
  });

  it.each([
    'order o-1 has no address',
    'Cannot read properties of undefined',
    'no handler for com.example.order.placed (schema 3)',
    'http://127.0.0.1:18083/connectors/x',
    'at handler (/work/main/packages/x.ts:10:5)',
    'passengers: 4',
  ])('leaves ordinary text alone: %s', (text) => {
    expect(redactSecrets(text)).toBe(text);
  });

  it('stays fast on long hostile text', () => {
    const hostile = ['a.'.repeat(500_000), 'x:'.repeat(500_000), `postgres://${'a'.repeat(1_000_000)}`, 'password='.repeat(100_000)];
    const started = Date.now();
    for (const text of hostile) boundedText(text);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('redactUrl', () => {
  it('masks the password and keeps the user, host and database', () => {
    expect(redactUrl('postgres://evkit:evkit@127.0.0.1:15432/evkit')).toBe('postgres://evkit:***@127.0.0.1:15432/evkit');
    expect(redactUrl('postgres://:pw@db/app')).toBe('postgres://:***@db/app');
    expect(redactUrl('postgres://u:p@ss@db/app')).toBe('postgres://u:***@db/app');
    expect(redactUrl('https://registry.example/x?api_key=abc')).toBe('https://registry.example/x?api_key=***');
    expect(redactUrl('http://127.0.0.1:18081/apis/ccompat/v7')).toBe('http://127.0.0.1:18081/apis/ccompat/v7');
  });
});

describe('boundedErrorText', () => {
  it('redacts and bounds an error message', () => {
    const text = boundedErrorText(new Error(`password=hunter2 ${'x'.repeat(1024 * 1024)}`));
    expect(text).not.toContain('hunter2');
    expect(text.length).toBeLessThan(ERROR_TEXT_LIMIT + 64);
    expect(text).toMatch(/… \(\d+ more characters\)$/);
  });

  it('reads whatever was thrown', () => {
    expect(errorMessageOf(new AggregateError([new Error('ECONNREFUSED 1'), new Error('ECONNREFUSED 2')], ''))).toBe('ECONNREFUSED 1; ECONNREFUSED 2');
    expect(errorMessageOf('plain')).toBe('plain');
    expect(errorMessageOf({ reason: 'x' })).toBe('{"reason":"x"}');
    expect(errorMessageOf(undefined)).toBe('undefined');
    const cyclic: { self?: unknown } = {};
    cyclic.self = cyclic;
    expect(errorMessageOf(cyclic)).toBe('[object Object]');
    expect(boundedErrorText(Object.assign(new Error(''), { code: 'ECONNRESET' }))).toBe('ECONNRESET');
  });
});

describe('terminalErrorText', () => {
  class ExampleError extends EvkitError {
    readonly code = 'EVKIT_EXAMPLE';
  }

  it('says code and message for an evkit error, the stack for anything else, redacted', () => {
    expect(terminalErrorText(new ExampleError('cannot reach postgres://u:pw@db/x'))).toBe('EVKIT_EXAMPLE: cannot reach postgres://***:***@db/x');
    const bug = new TypeError('x is undefined; password=pw');
    expect(terminalErrorText(bug)).toMatch(/^TypeError: x is undefined; password=\*\*\*\n\s+at /);
    expect(terminalErrorText('token=abc')).toBe('token=***');
  });
});
