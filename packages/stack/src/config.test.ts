import * as path from 'node:path';
import { DEFAULT_PORTS, kafkaNodesOf, printableEndpoints, resolveStackConfig, stackEndpoints } from './config';
import { StackConfigError } from './errors';

describe('resolveStackConfig', () => {
  it('uses ports away from the standard ones by default', () => {
    const config = resolveStackConfig({}, {});
    expect(config.ports).toEqual(DEFAULT_PORTS);
    expect(Object.values(config.ports)).not.toEqual(expect.arrayContaining([9092, 8081, 8083, 5432]));
    expect(config.services).toEqual(['postgres', 'kafka', 'registry', 'connect']);
    expect(path.basename(config.dir)).toBe('.stack');
  });

  it('takes ports from the environment, and options over the environment', () => {
    const config = resolveStackConfig({ ports: { registry: 28081 } }, { EVKIT_KAFKA_PORT: '29092', EVKIT_REGISTRY_PORT: '38081' });
    expect(config.ports.kafka).toBe(29092);
    expect(config.ports.registry).toBe(28081);
  });

  it.each([['abc'], ['0'], ['70000'], ['19092.5']])('rejects EVKIT_PG_PORT=%s with a typed error naming it', (raw) => {
    const attempt = () => resolveStackConfig({}, { EVKIT_PG_PORT: raw });
    expect(attempt).toThrow(StackConfigError);
    expect(attempt).toThrow(/EVKIT_PG_PORT/);
  });

  it('rejects two services on one port', () => {
    expect(() => resolveStackConfig({ ports: { connect: 19092 } }, {})).toThrow(/ports.connect and ports.kafka are both 19092|ports.kafka/);
  });

  it('rejects Connect without Kafka and unknown services', () => {
    expect(() => resolveStackConfig({ services: ['connect'] }, {})).toThrow(StackConfigError);
    expect(() => resolveStackConfig({ services: ['zookeeper' as never] }, {})).toThrow(/unknown service "zookeeper"/);
  });

  it('keeps the start order whatever order services are given in', () => {
    expect(resolveStackConfig({ services: ['connect', 'kafka', 'postgres'] }, {}).services).toEqual([
      'postgres',
      'kafka',
      'connect',
    ]);
  });

  it('derives client endpoints from the ports, each overridable', () => {
    const config = resolveStackConfig({ ports: { kafka: 29092 } }, {});
    expect(stackEndpoints(config, {})).toEqual({
      kafkaBrokers: ['127.0.0.1:29092'],
      registryUrl: 'http://127.0.0.1:18081/apis/ccompat/v7',
      connectUrl: 'http://127.0.0.1:18083',
      postgresUrl: 'postgres://evkit:evkit@127.0.0.1:15432/evkit',
    });
    const overridden = stackEndpoints(config, { EVKIT_KAFKA_BROKERS: 'a:1, b:2', EVKIT_REGISTRY_URL: 'http://r:8081' });
    expect(overridden.kafkaBrokers).toEqual(['a:1', 'b:2']);
    expect(overridden.registryUrl).toBe('http://r:8081');
  });

  it('runs one Kafka node by default, and 3 or 5 on request, each with ports of its own', () => {
    expect(resolveStackConfig({}, {}).brokers).toBe(1);
    const config = resolveStackConfig({ brokers: 3, ports: { kafka: 29092, kafkaController: 29093 } }, {});
    expect(kafkaNodesOf(config)).toEqual([
      { nodeId: 1, port: 29092, controllerPort: 29093 },
      { nodeId: 2, port: 29094, controllerPort: 29095 },
      { nodeId: 3, port: 29096, controllerPort: 29097 },
    ]);
    expect(stackEndpoints(config, {}).kafkaBrokers).toEqual(['127.0.0.1:29092', '127.0.0.1:29094', '127.0.0.1:29096']);
    expect(resolveStackConfig({}, { EVKIT_STACK_BROKERS: '5' }).brokers).toBe(5);
    expect(resolveStackConfig({ brokers: 1 }, { EVKIT_STACK_BROKERS: '3' }).brokers).toBe(1);
  });

  it.each([[2], [4], [0], [Number.NaN]])('refuses brokers: %s (a KRaft quorum needs an odd count)', (brokers) => {
    expect(() => resolveStackConfig({ brokers }, {})).toThrow(StackConfigError);
    expect(() => resolveStackConfig({ brokers }, {})).toThrow(/brokers must be 1, 3, 5/);
  });

  it('names EVKIT_STACK_BROKERS when the environment is at fault', () => {
    expect(() => resolveStackConfig({}, { EVKIT_STACK_BROKERS: 'three' })).toThrow(/EVKIT_STACK_BROKERS must be/);
  });

  it('refuses a node port that lands on another port of the stack', () => {
    // Node 2 would take 29094, the registry's port.
    expect(() => resolveStackConfig({ brokers: 3, ports: { kafka: 29092, registry: 29094 } }, {})).toThrow(/Kafka node 2 and ports.registry are both 29094/);
    // Controller of node 1 on the client port of node 2.
    expect(() => resolveStackConfig({ brokers: 3, ports: { kafka: 29092, kafkaController: 29094 } }, {})).toThrow(/both 29094/);
    expect(() => resolveStackConfig({ brokers: 5, ports: { kafka: 65530 } }, {})).toThrow(/above 65535/);
  });

  it('keeps the jars in the stack folder unless an artifacts folder is given', () => {
    const own = resolveStackConfig({ dir: '/tmp/a/.stack' }, {});
    expect(own.artifactsDir).toBe('/tmp/a/.stack');
    expect(resolveStackConfig({ dir: '/tmp/b', artifactsDir: '/tmp/a/.stack' }, {}).artifactsDir).toBe('/tmp/a/.stack');
    expect(resolveStackConfig({ dir: '/tmp/b' }, { EVKIT_STACK_ARTIFACTS_DIR: '/tmp/shared' }).artifactsDir).toBe('/tmp/shared');
  });
});

describe('printableEndpoints', () => {
  it('masks the PostgreSQL password, and any URL password, keeping the rest', () => {
    const config = resolveStackConfig({}, {});
    const shown = printableEndpoints(stackEndpoints(config, { EVKIT_REGISTRY_URL: 'https://svc:s3cret@registry.example/x' }));
    expect(shown.postgresUrl).toBe(`postgres://evkit:***@127.0.0.1:${DEFAULT_PORTS.postgres}/evkit`);
    expect(shown.registryUrl).toBe('https://svc:***@registry.example/x');
    expect(shown.connectUrl).toBe(`http://127.0.0.1:${DEFAULT_PORTS.connect}`);
    expect(JSON.stringify(shown)).not.toMatch(/evkit@|s3cret/);
  });
});
