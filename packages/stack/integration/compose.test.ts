import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createLocalStack } from '@evkit/stack';

// docker/docker-compose.yml is the same stack for people with Docker. No engine runs here, but
// Debian's docker-compose validates and renders a file without one.
const composeFile = path.resolve(__dirname, '../../../docker/docker-compose.yml');
const pom = fs.readFileSync(path.resolve(__dirname, '../maven/pom.xml'), 'utf8');
const pinned = (property: string) => new RegExp(`<${property}>([^<]+)</${property}>`).exec(pom)![1];

const compose = (file: string, ...args: string[]) =>
  spawnSync('docker-compose', ['-f', file, ...args], { encoding: 'utf8', env: { ...process.env, COMPOSE_PROJECT_NAME: 'evkit' } });

describe('docker/docker-compose.yml', () => {
  it('is a valid compose file', () => {
    const result = compose(composeFile, 'config', '-q');
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('runs the same four services at the versions the local stack pins', () => {
    const services = compose(composeFile, 'config', '--services').stdout.trim().split('\n').sort();
    expect(services).toEqual(['connect', 'kafka', 'postgres', 'schema-registry']);
    const rendered = compose(composeFile, 'config').stdout;
    expect(rendered).toContain(`image: apache/kafka:${pinned('kafka.version')}`);
    expect(rendered).toContain(`image: quay.io/debezium/connect:${pinned('debezium.version')}`);
    expect(rendered).toMatch(/wal_level=logical/);
    expect(rendered).toMatch(/SCHEMA_REGISTRY_SCHEMA_COMPATIBILITY_LEVEL: BACKWARD_TRANSITIVE/);
    for (const service of ['kafka', 'schema-registry', 'connect', 'postgres']) {
      const block = rendered.split(new RegExp(`^  ${service}:$`, 'm'))[1]!.split(/^ {2}\S/m)[0]!;
      expect(block).toContain('healthcheck:');
    }
  });

  it('publishes ports on loopback only, the same as the local stack', () => {
    const rendered = compose(composeFile, 'config').stdout;
    const { ports } = createLocalStack().config; // both read the same EVKIT_*_PORT variables
    for (const port of [ports.kafka, ports.registry, ports.connect, ports.postgres]) expect(rendered).toMatch(new RegExp(`host_ip: 127\\.0\\.0\\.1[\\s\\S]{0,80}published: ${port}|127\\.0\\.0\\.1:${port}:`));
  });

  it('would catch a broken file (the validation can fail)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evkit-compose-'));
    const broken = path.join(dir, 'docker-compose.yml');
    fs.writeFileSync(broken, fs.readFileSync(composeFile, 'utf8').replace('healthcheck:', 'healthchek:'));
    try {
      expect(compose(broken, 'config', '-q').status).not.toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
