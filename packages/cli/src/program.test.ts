import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { useCapturedOutput } from './cli-fixtures.test-support';
import { selectionFrom } from './commands/dlq';
import { kafkaOptions, registryOptions } from './context';
import { CliDependencyError, CliFindingError, CliUsageError, exitCodeFor } from './exit-codes';
import { run } from './program';

describe('evkit CLI', () => {
  const output = useCapturedOutput();

  it('exits 0 for --help and 2 for an unknown command or a bad flag value', async () => {
    expect(await run(['--help'])).toBe(0);
    for (const command of ['schemas', 'codegen', 'lag', 'dlq', 'stack']) expect(output.stdout).toContain(`  ${command}`);
    expect(await run(['bogus'])).toBe(2);
    expect(output.stderr).toContain("evkit: EVKIT_CLI_USAGE: unknown command 'bogus'");
    expect(await run(['dlq', 'list', 'x.dlq', '--bogus'])).toBe(2);
    expect(output.stderr).toContain("evkit: EVKIT_CLI_USAGE: unknown option '--bogus'");
    expect(await run(['dlq', 'list', 'x.dlq', '--from', 'yesterday-ish'])).toBe(2);
    expect(output.stderr).toContain('--from must be a date or time');
  });

  it('maps findings to exit 1 and everything else to exit 2', () => {
    expect(exitCodeFor(new CliFindingError('incompatible'))).toBe(1);
    expect(exitCodeFor(new CliUsageError('bad flag'))).toBe(2);
    expect(exitCodeFor(new CliDependencyError('git failed'))).toBe(2);
    expect(exitCodeFor(new Error('broker down'))).toBe(2);
  });
});

describe('dlq selection flags', () => {
  it('builds a selection, leaving out what was not given', () => {
    expect(selectionFrom({ type: 't', key: 'k', code: 'EVKIT_X', from: '2026-01-01T00:00:00Z', partition: '2', fromOffset: '10', toOffset: '20' })).toEqual({
      eventType: 't',
      key: 'k',
      errorCode: 'EVKIT_X',
      from: new Date('2026-01-01T00:00:00Z'),
      partition: 2,
      fromOffset: '10',
      toOffset: '20',
    });
    expect(selectionFrom({})).toEqual({});
    expect(() => selectionFrom({ fromOffset: '-1' })).toThrow(CliUsageError);
  });
});

describe('Kafka options', () => {
  it('take brokers from the flag, then the environment', () => {
    expect(kafkaOptions({ brokers: 'a:1,b:2' }, {}).brokers).toEqual(['a:1', 'b:2']);
    expect(kafkaOptions({}, { EVKIT_KAFKA_BROKERS: 'c:3' }).brokers).toEqual(['c:3']);
  });

  it('take TLS and SASL from the environment only, and refuse an unknown mechanism', () => {
    const options = kafkaOptions({}, { EVKIT_KAFKA_BROKERS: 'c:3', EVKIT_KAFKA_SSL: 'true', EVKIT_KAFKA_SASL_MECHANISM: 'scram-sha-512', EVKIT_KAFKA_SASL_USERNAME: 'svc', EVKIT_KAFKA_SASL_PASSWORD: 'pw' });
    expect(options).toMatchObject({ ssl: true, sasl: { mechanism: 'scram-sha-512', username: 'svc', password: 'pw' } });
    expect(() => kafkaOptions({}, { EVKIT_KAFKA_BROKERS: 'c:3', EVKIT_KAFKA_SASL_MECHANISM: 'kerberos' })).toThrow(/plain, scram-sha-256 or scram-sha-512/);
  });
});

describe('registry options', () => {
  it('take the URL from the flag, then EVKIT_REGISTRY_URL, then the local stack', () => {
    expect(registryOptions({ registryUrl: 'http://flag:1/' }, { EVKIT_REGISTRY_URL: 'http://env:2/' })).toEqual({ url: 'http://flag:1/' });
    expect(registryOptions({}, { EVKIT_REGISTRY_URL: 'http://env:2/' })).toEqual({ url: 'http://env:2/' });
    expect(registryOptions({}, { EVKIT_REGISTRY_URL: '' }).url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/apis\/ccompat\/v7$/);
  });

  it('take basic auth from the environment only, treat empty variables as unset, and refuse credentials in the flag without echoing them', () => {
    const env = { EVKIT_REGISTRY_URL: 'http://env:2/', EVKIT_REGISTRY_USERNAME: 'svc', EVKIT_REGISTRY_PASSWORD: 's3cret' };
    expect(registryOptions({}, env)).toEqual({ url: 'http://env:2/', auth: { username: 'svc', password: 's3cret' } });
    expect(registryOptions({}, { ...env, EVKIT_REGISTRY_USERNAME: '', EVKIT_REGISTRY_PASSWORD: '' })).toEqual({ url: 'http://env:2/' });
    expect(() => registryOptions({}, { ...env, EVKIT_REGISTRY_PASSWORD: '' })).toThrow('set both EVKIT_REGISTRY_USERNAME and EVKIT_REGISTRY_PASSWORD, or neither');
    let refused: unknown;
    try {
      registryOptions({ registryUrl: 'https://svc:s3cret@registry.example.com/' }, {});
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(CliUsageError);
    expect((refused as Error).message).not.toContain('s3cret');
  });
});

describe('evkit connect', () => {
  const output = useCapturedOutput();
  const saved = { url: process.env.EVKIT_CONNECT_URL, port: process.env.EVKIT_CONNECT_PORT };
  afterEach(() => {
    for (const [name, value] of [['EVKIT_CONNECT_URL', saved.url], ['EVKIT_CONNECT_PORT', saved.port]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it('talks to the local stack’s Connect by default, as the other commands use its brokers and registry', async () => {
    const requests: string[] = [];
    const server = http.createServer((request, response) => {
      requests.push(`${request.method} ${request.url}`);
      response.writeHead(200, { 'content-type': 'application/json' }).end('[]');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      delete process.env.EVKIT_CONNECT_URL;
      process.env.EVKIT_CONNECT_PORT = String((server.address() as AddressInfo).port);
      expect(await run(['connect', 'status'])).toBe(0);
      expect(requests[0]).toMatch(/^GET \/connectors/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(output.stderr).not.toContain('8083');
  });
});
