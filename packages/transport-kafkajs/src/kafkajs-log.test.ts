import { Kafka, logLevel } from 'kafkajs';
import type { Logger, LogFields } from '@evkit/telemetry';
import { TransportConfigError } from '@evkit/transport';
import { resolveClient } from './client';
import { evkitLevelOf, kafkaJsLogCreator, withKafkaJsLogger } from './kafkajs-log';

type Line = [level: keyof Logger, message: string, fields: LogFields | undefined];

function capturingLogger(): Logger & { lines: Line[] } {
  const lines: Line[] = [];
  const at = (level: keyof Logger) => (message: string, fields?: LogFields) => void lines.push([level, message, fields]);
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

// As KafkaJS logs them (src/network/connection.js, producer/sendMessages.js, consumer/runner.js).
const leaderElection = { error: 'There is no leader for this topic-partition as we are in the middle of a leadership election' };
const unknownTopic = { error: 'This server does not host this topic-partition' };

describe('KafkaJS log levels in evkit', () => {
  it.each([
    ['a new topic without a leader yet', logLevel.ERROR, 'Response Metadata(key: 3, version: 6)', leaderElection, 'debug'],
    ['a topic being auto-created', logLevel.ERROR, 'Response Metadata(key: 3, version: 6)', unknownTopic, 'debug'],
    ['a send retried on stale metadata', logLevel.ERROR, 'Failed to send messages: This server is not the leader for that topic-partition', {}, 'debug'],
    ['a rebalance', logLevel.WARN, 'The group is rebalancing, re-joining', { error: 'The group is rebalancing, so a rejoin is needed' }, 'debug'],
    ['two members creating one topic', logLevel.ERROR, 'Response CreateTopics(key: 19, version: 3)', { error: 'Topic creation errors' }, 'debug'],
    ["evkit's own bounded retries", logLevel.WARN, 'Limiting retries for the idempotent producer may invalidate EoS guarantees', {}, 'debug'],
    ['a consumer crash', logLevel.ERROR, 'Crash: KafkaJSNumberOfRetriesExceeded: Connection error: connect ECONNREFUSED', {}, 'error'],
    ['a crash after transient errors', logLevel.ERROR, 'Crash: KafkaJSNumberOfRetriesExceeded: This server does not host this topic-partition', {}, 'error'],
    ["a subscriber's own report", logLevel.ERROR, 'consumer crashed: This server does not host this topic-partition', { code: 'EVKIT_TRANSPORT_CONSUMER_CRASHED' }, 'error'],
    ['an authentication failure', logLevel.ERROR, 'SASL PLAIN authentication failed', {}, 'error'],
    ['an unexpected response', logLevel.WARN, 'Response without match', {}, 'warn'],
    ['a group join', logLevel.INFO, 'Consumer has joined the group', {}, 'info'],
  ])('%s stays visible only when it is not transient', (_what, level, message, extra, expected) => {
    expect(evkitLevelOf({ level, log: { message, timestamp: '', logger: 'kafkajs', ...extra } })).toBe(expected);
  });

  it('writes KafkaJS lines through the logger, with its scalar fields and without stacks or payloads', () => {
    const logger = capturingLogger();
    const log = kafkaJsLogCreator(logger)(logLevel.WARN);
    log({
      namespace: 'Consumer',
      level: logLevel.ERROR,
      label: 'ERROR',
      log: { message: 'Crash: KafkaJSError: boom', timestamp: 't', logger: 'kafkajs', groupId: 'billing', retryCount: 3, stack: 'at x', topics: ['a', 'b'], payload: { big: 1 } },
    });
    expect(logger.lines).toEqual([
      ['error', 'KafkaJS Consumer: Crash: KafkaJSError: boom', { source: 'kafkajs', groupId: 'billing', retryCount: 3, topics: 'a,b' }],
    ]);
  });
});

describe('a KafkaJS client made by evkit', () => {
  it('logs through the given logger, at warn and above by default', () => {
    const logger = capturingLogger();
    const kafka = resolveClient({ brokers: ['127.0.0.1:1'], logger });
    kafka.logger().info('Starting');
    kafka.logger().error('Response Metadata(key: 3, version: 6)', leaderElection);
    kafka.logger().error('Crash: KafkaJSError: boom', { groupId: 'g' });
    expect(logger.lines.map(([level, message]) => [level, message])).toEqual([
      ['debug', 'KafkaJS: Response Metadata(key: 3, version: 6)'],
      ['error', 'KafkaJS: Crash: KafkaJSError: boom'],
    ]);
    const verbose = capturingLogger();
    resolveClient({ brokers: ['127.0.0.1:1'], logger: verbose, logLevel: logLevel.INFO }).logger().info('Starting');
    expect(verbose.lines).toEqual([['info', 'KafkaJS: Starting', { source: 'kafkajs' }]]);
  });

  it('logs evkit JSON lines on stderr without a logger, leaving out what KafkaJS retries by itself', () => {
    const written: string[] = [];
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => written.push(String(chunk)) > 0);
    try {
      const kafka = resolveClient({ brokers: ['127.0.0.1:1'] });
      kafka.logger().error('Response Metadata(key: 3, version: 6)', unknownTopic);
      kafka.logger().error('Failed to connect to seed broker', { retryCount: 1 });
      resolveClient({ brokers: ['127.0.0.1:1'], logLevel: logLevel.NOTHING }).logger().error('not shown');
    } finally {
      jest.restoreAllMocks();
    }
    expect(written.map((line) => JSON.parse(line) as object)).toEqual([
      expect.objectContaining({ level: 'error', message: 'KafkaJS: Failed to connect to seed broker', source: 'kafkajs', retryCount: 1 }),
    ]);
  });

  it('refuses a logger together with a log creator, or with a client of your own', () => {
    const logger = capturingLogger();
    expect(() => resolveClient({ brokers: ['127.0.0.1:1'], logger, logCreator: () => () => undefined })).toThrow(TransportConfigError);
    const kafka = new Kafka({ brokers: ['127.0.0.1:1'], logLevel: logLevel.NOTHING });
    expect(() => resolveClient({ kafka, logger })).toThrow(/not both \(logger\)/);
  });

  it("routes KafkaJS's lines to a producer's or consumer's logger unless the options already say where they go", () => {
    const logger = capturingLogger();
    const other = capturingLogger();
    expect(withKafkaJsLogger({ brokers: ['b:1'] }, logger)).toEqual({ brokers: ['b:1'], logger });
    expect(withKafkaJsLogger({ brokers: ['b:1'] }, undefined)).toEqual({ brokers: ['b:1'] });
    expect(withKafkaJsLogger({ brokers: ['b:1'], logger: other }, logger).logger).toBe(other);
    const logCreator = () => () => {};
    expect(withKafkaJsLogger({ brokers: ['b:1'], logCreator }, logger)).toEqual({ brokers: ['b:1'], logCreator });
    const kafka = new Kafka({ brokers: ['b:1'] });
    expect(withKafkaJsLogger({ kafka }, logger)).toEqual({ kafka });
  });
});
