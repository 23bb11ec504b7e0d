import { randomUUID } from 'node:crypto';
import * as net from 'node:net';
import * as path from 'node:path';
import { run } from '@evkit/cli';
import { createAvroCodec } from '@evkit/codec';
import { createLocalStack } from '@evkit/stack';
import { record, useCapturedOutput, useTempFolders, writeFiles } from '../src/cli-fixtures.test-support';

// `evkit schemas register|check|diff` against the stack's Apicurio registry (Confluent API).
const { endpoints } = createLocalStack();
const registryUrl = endpoints.registryUrl;

const id = { name: 'orderId', type: 'string' };
const v1 = record('OrderPlaced', [id]);
const v2 = record('OrderPlaced', [id, { name: 'currency', type: 'string', default: 'EUR' }]);
const compatible = record('OrderPlaced', [id, { name: 'currency', type: 'string', default: 'EUR' }, { name: 'note', type: ['null', 'string'], default: null }]);
// Reads v2's data but not v1's: only the transitive check refuses it.
const transitiveBreak = record('OrderPlaced', [id, { name: 'currency', type: 'string' }]);

interface CheckJson {
  results: { status: string; subject: string; level: { level: string; source: string; tooWeak?: string }; checked: { version: number }[]; broken: { version: number; violations: { path: string; reason: string }[] }[] }[];
}
interface RegisterJson {
  results: { status: string; id?: number; version?: number; error?: string }[];
}

async function rest(method: string, url: string, body?: unknown): Promise<unknown> {
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return response.json();
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('evkit schemas against Apicurio Registry', () => {
  const output = useCapturedOutput();
  const tempFolder = useTempFolders();
  const originalEnv = { ...process.env };
  afterEach(() => {
    process.env = { ...originalEnv };
  });

  /** A schema folder holding `schema` as placed.avsc on a fresh topic; returns the folder and the subject. */
  const folder = (schema: object, topic = `evkit.it.cli.${randomUUID()}`) => {
    const dir = tempFolder();
    writeFiles(dir, { 'placed.avsc': schema, 'subjects.json': { schemas: { 'placed.avsc': { topic } } } });
    // No strategy in the mapping: the CLI's default, topic-record, which is also the codec's.
    return { dir, topic, subject: `${topic}-com.example.test.OrderPlaced` };
  };
  const cli = async (...args: string[]) => {
    output.clear();
    return run([...args, '--registry-url', registryUrl]);
  };
  const json = <T>() => JSON.parse(output.stdout) as T;

  it('registers idempotently, then checks compatible and incompatible candidates with version numbers and reasons', async () => {
    const { dir, topic, subject } = folder(v1);
    expect(await cli('schemas', 'register', '--dir', dir, '--json')).toBe(0);
    const [first] = json<RegisterJson>().results;
    expect(first).toMatchObject({ status: 'registered', version: 1 });
    expect(await cli('schemas', 'register', '--dir', dir)).toBe(0);
    expect(output.stdout).toBe(`unchanged  ${path.relative(process.cwd(), dir)}/placed.avsc -> ${subject}: id ${first!.id}, version 1\n`);
    // The subject got the required level of its own, as a producer would have set it.
    expect(await rest('GET', `${registryUrl}/config/${subject}`)).toEqual({ compatibilityLevel: 'BACKWARD_TRANSITIVE' });

    writeFiles(dir, { 'placed.avsc': v2 });
    expect(await cli('schemas', 'register', '--dir', dir, '--json')).toBe(0);
    expect(json<RegisterJson>().results[0]).toMatchObject({ status: 'registered', version: 2 });

    writeFiles(dir, { 'placed.avsc': compatible });
    expect(await cli('schemas', 'check', '--dir', dir, '--json')).toBe(0);
    expect(json<CheckJson>().results[0]).toMatchObject({
      status: 'compatible',
      subject,
      level: { level: 'BACKWARD_TRANSITIVE', source: 'subject' },
      checked: [{ version: 1 }, { version: 2 }],
    });

    writeFiles(dir, { 'placed.avsc': transitiveBreak });
    expect(await cli('schemas', 'check', '--dir', dir)).toBe(1);
    expect(output.stdout).toContain(`FAIL ${path.relative(process.cwd(), dir)}/placed.avsc -> ${subject}: incompatible at BACKWARD_TRANSITIVE with version 1`);
    expect(output.stdout).toContain("version 1, backward: /fields/currency: field 'currency' has no default and is missing from the writer schema (v1)");
    expect(output.stderr).toContain('EVKIT_CLI_FINDING');

    // --level overrides the subject's level; registering still enforces the subject's.
    expect(await cli('schemas', 'check', '--dir', dir, '--level', 'BACKWARD')).toBe(0);
    expect(await cli('schemas', 'register', '--dir', dir, '--json')).toBe(1);
    expect(json<RegisterJson>().results[0]).toMatchObject({ status: 'refused', error: expect.stringContaining('EVKIT_CODEC_INCOMPATIBLE_SCHEMA') as unknown });
    expect(await rest('GET', `${registryUrl}/subjects/${subject}/versions`)).toEqual([1, 2]);

    // A producer that does not register finds the schema by the object codegen's `schemas` map holds,
    // under the subject the CLI registered: both default to the same naming strategy.
    const producerCodec = createAvroCodec({ registry: { url: registryUrl }, autoRegister: false });
    expect(await producerCodec.prepare(topic, JSON.parse(JSON.stringify(v2)) as object)).toBe((await rest('GET', `${registryUrl}/subjects/${subject}/versions/2`) as { id: number }).id);

    writeFiles(dir, { 'placed.avsc': compatible });
    expect(await cli('schemas', 'diff', '--dir', dir)).toBe(0);
    expect(output.stdout).toBe(
      `${path.relative(process.cwd(), dir)}/placed.avsc -> ${subject}: 1 change(s) against version 2\n  + note: null | string, default null\n`,
    );
  }, 60_000);

  it('reports a subject Apicurio holds without a level of its own (it says NONE) as too weak, unless --level decides', async () => {
    const { dir, subject } = folder(v2);
    await rest('POST', `${registryUrl}/subjects/${subject}/versions`, { schema: JSON.stringify(v1) });
    expect(await cli('schemas', 'check', '--dir', dir, '--json')).toBe(1);
    expect(json<CheckJson>().results[0]).toMatchObject({ status: 'compatible', level: { level: 'BACKWARD_TRANSITIVE', tooWeak: 'NONE' } });
    expect(await cli('schemas', 'check', '--dir', dir, '--level', 'FULL_TRANSITIVE')).toBe(0);
  }, 30_000);

  it('exits 2 when the registry is unreachable, and never echoes the credentials', async () => {
    const { dir } = folder(v1);
    process.env.EVKIT_REGISTRY_USERNAME = 'svc-evkit-user';
    process.env.EVKIT_REGISTRY_PASSWORD = 'hunter2-very-secret';
    const url = `http://127.0.0.1:${await closedPort()}/apis/ccompat/v7`;
    for (const command of ['check', 'register', 'diff']) {
      output.clear();
      expect(await run(['schemas', command, '--dir', dir, '--registry-url', url])).toBe(2);
      expect(output.stderr).toContain(`EVKIT_CODEC_REGISTRY_UNAVAILABLE: schema registry ${url}/ unreachable`);
      expect(output.stdout + output.stderr).not.toMatch(/hunter2|svc-evkit-user/);
    }
  }, 30_000);
});
