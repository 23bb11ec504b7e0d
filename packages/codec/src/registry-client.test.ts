import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CodecConfigError, RegistryRequestError, RegistryResponseTooLargeError, RegistryUnavailableError, UnknownSchemaIdError } from './errors';
import { createRegistryClient } from './registry-client';

// A local HTTP server stands in for the registry: one that never answers (a paused process),
// and one that answers with the registry's own errors.

let server: http.Server;
let url: string;
let answer: ((response: http.ServerResponse, request: http.IncomingMessage) => void) | undefined;
let requests = 0;

beforeAll(async () => {
  server = http.createServer((request, response) => {
    requests++;
    answer?.(response, request); // unset: never answers
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/apis/ccompat/v7`;
});
afterEach(() => {
  answer = undefined;
  requests = 0;
  server.closeAllConnections();
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const json = (status: number, body: unknown) => (response: http.ServerResponse) =>
  response.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' }).end(JSON.stringify(body));

describe('createRegistryClient', () => {
  it('fails a schema fetch the registry never answers with a retriable error naming the URL, not the credentials', async () => {
    const client = createRegistryClient({ url: url.replace('http://', 'http://svc:s3cret@'), timeoutMs: 300 });
    const started = Date.now();
    const failure = client.typeById(7);
    await expect(failure).rejects.toBeInstanceOf(RegistryUnavailableError);
    const error = (await failure.catch((e: unknown) => e)) as RegistryUnavailableError;
    expect(Date.now() - started).toBeLessThan(5000);
    expect(error).toMatchObject({ code: 'EVKIT_CODEC_REGISTRY_UNAVAILABLE', retriable: true });
    expect(error.message).toBe(`schema registry ${url}/ unreachable (fetch schema id 7): Timeout (300ms)`);
    expect(error.message).not.toContain('s3cret');
  });

  it('times out registration and the plain REST calls too', async () => {
    const client = createRegistryClient({ url, timeoutMs: 300 });
    await expect(client.register('s-value', '"string"', 'BACKWARD')).rejects.toMatchObject({ code: 'EVKIT_CODEC_REGISTRY_UNAVAILABLE', retriable: true });
    await expect(client.versions('s-value')).rejects.toMatchObject({ code: 'EVKIT_CODEC_REGISTRY_UNAVAILABLE', retriable: true });
  });

  it('fails as unavailable, not as a refusal, when nothing listens', async () => {
    const client = createRegistryClient({ url: 'http://127.0.0.1:1/', timeoutMs: 1000 });
    await expect(client.typeById(7)).rejects.toMatchObject({
      constructor: RegistryUnavailableError,
      retriable: true,
      message: 'schema registry http://127.0.0.1:1/ unreachable (fetch schema id 7): connect ECONNREFUSED 127.0.0.1:1',
    });
  });

  it('still tells the registry’s own answers apart: unknown id, refusal', async () => {
    const client = createRegistryClient({ url, timeoutMs: 1000 });
    answer = json(404, { error_code: 40403, message: 'Schema 7 not found' });
    await expect(client.typeById(7)).rejects.toBeInstanceOf(UnknownSchemaIdError);
    answer = json(401, { error_code: 401, message: 'Unauthorized' });
    const refused = client.typeById(8);
    await expect(refused).rejects.toMatchObject({ constructor: RegistryRequestError, retriable: false });
    await expect(refused).rejects.toThrow(/refused to fetch schema id 8: HTTP 401/);
  });

  it('refuses an unusable timeout', () => {
    expect(() => createRegistryClient({ url, timeoutMs: 0 })).toThrow(CodecConfigError);
    expect(() => createRegistryClient({ url, timeoutMs: 1.5 })).toThrow(/registry\.timeoutMs must be a positive integer/);
  });
});

describe('createRegistryClient with hostile answers and unsafe settings', () => {
  const secret = 's3cr3t-pw';

  it('refuses credentials over http:// to a host that is not loopback, unless allowed', () => {
    const auth = { username: 'svc', password: secret };
    for (const remote of ['http://registry.example:8081', 'http://10.0.0.5:8081', 'http://[2001:db8::1]:8081']) {
      expect(() => createRegistryClient({ url: remote, auth })).toThrow(CodecConfigError);
      expect(() => createRegistryClient({ url: remote.replace('http://', `http://svc:${secret}@`) })).toThrow(/clear text/);
      expect(() => createRegistryClient({ url: remote, auth, allowInsecureCredentials: true })).not.toThrow();
    }
    for (const local of ['http://127.0.0.1:1', 'http://127.8.9.10:1', 'http://localhost:1', 'http://[::1]:1', 'https://registry.example']) {
      expect(() => createRegistryClient({ url: local, auth })).not.toThrow();
    }
    expect(() => createRegistryClient({ url: 'http://registry.example:8081' })).not.toThrow();
  });

  it('refuses TLS settings with an http:// URL rather than ignoring them', () => {
    expect(() => createRegistryClient({ url, tls: { rejectUnauthorized: false } })).toThrow(/registry\.tls is set but registry\.url is http/);
    expect(() => createRegistryClient({ url: 'https://registry.example', tls: { rejectUnauthorized: false } })).not.toThrow();
  });

  it('refuses a query string in the URL without repeating it', () => {
    const attempt = () => createRegistryClient({ url: `${url}?api_key=${secret}` });
    expect(attempt).toThrow(CodecConfigError);
    expect(attempt).toThrow(/query string/);
    expect(attempt).not.toThrow(new RegExp(secret));
  });

  it.each([
    ['announced by Content-Length', (response: http.ServerResponse) => response.writeHead(200, { 'content-length': 5000 }).end('x'.repeat(5000))],
    ['streamed without a length', (response: http.ServerResponse) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('['.padEnd(800, ' '));
      setTimeout(() => response.end(' '.repeat(800) + ']'), 20);
    }],
  ])('cuts off a response larger than maxResponseBytes, %s, on both request paths', async (_how, send) => {
    const client = createRegistryClient({ url, maxResponseBytes: 1024, timeoutMs: 2000 });
    answer = send;
    await expect(client.typeById(7)).rejects.toMatchObject({ constructor: RegistryResponseTooLargeError, code: 'EVKIT_CODEC_REGISTRY_RESPONSE_TOO_LARGE', retriable: false });
    await expect(client.versions('s-value')).rejects.toMatchObject({
      constructor: RegistryResponseTooLargeError,
      message: 'registry response larger than 1024 bytes',
    });
    expect(() => createRegistryClient({ url, maxResponseBytes: 0 })).toThrow(/maxResponseBytes must be a positive integer/);
  });

  it('remembers an unknown schema id for a while: a stream of such records costs one request', async () => {
    answer = json(404, { error_code: 40403, message: 'Schema 7 not found' });
    const client = createRegistryClient({ url, unknownIdCacheMs: 200 });
    for (let i = 0; i < 5; i++) await expect(client.typeById(7)).rejects.toBeInstanceOf(UnknownSchemaIdError);
    expect(requests).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 250));
    await expect(client.typeById(7)).rejects.toBeInstanceOf(UnknownSchemaIdError);
    expect(requests).toBe(2);
    const uncached = createRegistryClient({ url, unknownIdCacheMs: 0 });
    for (let i = 0; i < 3; i++) await expect(uncached.typeById(7)).rejects.toBeInstanceOf(UnknownSchemaIdError);
    expect(requests).toBe(5);
  });

  it('refuses a schema id whose schema is not Avro', async () => {
    answer = json(200, { schemaType: 'JSON', schema: '{"type":"object"}' });
    await expect(createRegistryClient({ url }).typeById(3)).rejects.toThrow(/schema id 3, which is not an Avro schema/);
  });

  it('never repeats the credentials a registry or proxy echoes back', async () => {
    const echo = (status: number) => (response: http.ServerResponse, request: http.IncomingMessage) =>
      json(status, { message: `denied for ${request.headers.authorization} (password=${secret}, user svc:${secret})` })(response);
    const client = createRegistryClient({ url, auth: { username: 'svc', password: secret }, timeoutMs: 1000 });
    for (const status of [401, 503]) {
      answer = echo(status);
      for (const call of [() => client.typeById(7), () => client.versions('s'), () => client.globalCompatibility()]) {
        const error = (await call().catch((e: unknown) => e)) as Error;
        expect(error).toBeInstanceOf(status === 401 ? RegistryRequestError : RegistryUnavailableError);
        expect(error.message).toContain('denied for');
        expect(error.message).not.toContain(secret);
        expect(error.message).not.toContain(Buffer.from(`svc:${secret}`).toString('base64'));
      }
    }
  });
});
