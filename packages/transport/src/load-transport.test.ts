import type { KafkaJsPublisherOptions, KafkaJsSubscriberOptions } from '@evkit/transport-kafkajs';
import type { PlatformaticPublisherOptions, PlatformaticSubscriberOptions } from '@evkit/transport-platformatic';
import { TransportConfigError } from './errors';
import { kafkaClientProblem, type KafkaPublisherOptions, type KafkaSubscriberOptions } from './kafka-clients';
import { loadTransport } from './load-transport';

// Jest's CommonJS loader cannot read the ESM-only client (Node itself can, with require(esm)):
// a stand-in, which the transport's Node-version check comes before any use of.
jest.mock('@platformatic/kafka', () => ({}));

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const platformaticRuns = (major === 22 && minor >= 22) || (major === 24 && minor >= 6) || major > 24;

const uninstalled: string[] = [];
/** Makes `require(name)` fail as Node does for a package that is not installed. */
function uninstall(name: string, message = `Cannot find module '${name}'`) {
  uninstalled.push(name);
  jest.doMock(name, () => {
    throw Object.assign(new Error(message), { code: 'MODULE_NOT_FOUND' });
  });
}

function thrownBy(work: () => unknown): unknown {
  try {
    work();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

afterEach(() => {
  for (const name of uninstalled.splice(0)) jest.dontMock(name);
  jest.resetModules();
});

describe('loadTransport', () => {
  it('makes KafkaJS transports, which check their options themselves', async () => {
    const kafkajs = loadTransport('kafkajs');
    expect(kafkajs.client).toBe('kafkajs');
    const publisher = kafkajs.createPublisher({ brokers: ['127.0.0.1:1'] });
    const subscriber = kafkajs.createSubscriber({ brokers: ['127.0.0.1:1'] });
    expect([typeof publisher.send, typeof subscriber.run]).toEqual(['function', 'function']);
    await Promise.all([publisher.disconnect(), subscriber.disconnect()]);
    expect(() => kafkajs.createPublisher({ brokers: [] })).toThrow(TransportConfigError);
  });

  it('refuses a name that is no client, naming the option', () => {
    expect(() => loadTransport('rdkafka' as never)).toThrow(new TransportConfigError('client must be one of kafkajs, platformatic, got "rdkafka"'));
    expect(() => loadTransport(undefined as never)).toThrow(new TransportConfigError('client is required'));
  });

  it('says which package to install when the transport package is missing', () => {
    uninstall('@evkit/transport-platformatic');
    const { loadTransport: load } = jest.requireActual<typeof import('./load-transport')>('./load-transport');
    const thrown = thrownBy(() => load('platformatic'));
    // Required again: resetModules gave the module its own copy of the error classes.
    const { TransportNotInstalledError: NotInstalled } = jest.requireActual<typeof import('./errors')>('./errors');
    expect(thrown).toBeInstanceOf(NotInstalled);
    expect(thrown).toMatchObject({
      code: 'EVKIT_TRANSPORT_NOT_INSTALLED',
      message: "client 'platformatic' needs @evkit/transport-platformatic, which is not installed: npm install @evkit/transport-platformatic",
    });
  });

  it('leaves a missing module inside an installed transport package as it is', () => {
    uninstall('@evkit/transport-kafkajs', "Cannot find module 'kafkajs'");
    const { loadTransport: load } = jest.requireActual<typeof import('./load-transport')>('./load-transport');
    expect(() => load('kafkajs')).toThrow("Cannot find module 'kafkajs'");
  });

  (platformaticRuns ? it.skip : it)('gives @platformatic/kafka on an older Node its clear Node-version error', () => {
    const platformatic = loadTransport('platformatic');
    // By code and name: an earlier test's resetModules left the transport its own copy of the classes.
    const nodeTooOld = { name: 'TransportConfigError', code: 'EVKIT_TRANSPORT_INVALID_OPTIONS', message: expect.stringContaining('needs Node >= 22.22 or >= 24.6') as unknown };
    expect(thrownBy(() => platformatic.createPublisher({ brokers: ['127.0.0.1:1'] }))).toMatchObject(nodeTooOld);
    expect(thrownBy(() => platformatic.createSubscriber({ brokers: ['127.0.0.1:1'] }))).toMatchObject(nodeTooOld);
  });
});

describe('kafkaClientProblem', () => {
  it('accepts the clients and no client, and names the option otherwise', () => {
    expect([kafkaClientProblem('kafkajs'), kafkaClientProblem('platformatic'), kafkaClientProblem(undefined)]).toEqual([undefined, undefined, undefined]);
    expect(kafkaClientProblem('KafkaJS')).toBe('client must be one of kafkajs, platformatic, got "KafkaJS"');
  });
});

describe('the client option types', () => {
  // Compiles only while each transport's own options are assignable to the restated ones here:
  // restated so that a package naming them needs no client installed to type-check.
  type Assignable<From, To> = [From] extends [To] ? true : false;
  const inStep: [
    Assignable<KafkaJsPublisherOptions, KafkaPublisherOptions<'kafkajs'>>,
    Assignable<KafkaJsSubscriberOptions, KafkaSubscriberOptions<'kafkajs'>>,
    Assignable<PlatformaticPublisherOptions, KafkaPublisherOptions<'platformatic'>>,
    Assignable<PlatformaticSubscriberOptions, KafkaSubscriberOptions<'platformatic'>>,
  ] = [true, true, true, true];

  it('take what the transports take, TLS and SASL included', async () => {
    const options: KafkaJsPublisherOptions = {
      brokers: ['127.0.0.1:1'],
      clientId: 'typed',
      ssl: { rejectUnauthorized: false },
      sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' },
      connectionTimeout: 500,
      requestTimeout: 1000,
      retry: { retries: 2 },
      maxBatchRecords: 10,
    };
    const publisher = loadTransport('kafkajs').createPublisher(options);
    await publisher.disconnect();
    expect(inStep).toEqual([true, true, true, true]);
  });
});
