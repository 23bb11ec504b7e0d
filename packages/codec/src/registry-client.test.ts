import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CodecConfigError, RegistryRequestError, RegistryUnavailableError, UnknownSchemaIdError } from './errors';
import { createRegistryClient } from './registry-client';

// A local HTTP server stands in for the registry: one that never answers (a paused process),
// and one that answers with the registry's own errors.

let server: http.Server;
let url: string;
let answer: ((response: http.ServerResponse) => void) | undefined;

beforeAll(async () => {
  server = http.createServer((_request, response) => answer?.(response)); // unset: never answers
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/apis/ccompat/v7`;
});
afterEach(() => {
  answer = undefined;
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
