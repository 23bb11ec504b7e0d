import { randomUUID } from 'node:crypto';
import { createEvkit } from '@evkit/service';
import { createLocalStack } from '@evkit/stack';
import type { Logger } from '@evkit/telemetry';

// createEvkit with `client: 'platformatic'` against the real stack: every part (producer,
// consumer, the failure routing's retry publisher) on @platformatic/kafka, chosen by option.
const { endpoints } = createLocalStack();

const Ping = { type: 'record', name: 'Ping', namespace: 'dev.evkit.it', fields: [{ name: 'n', type: 'int' }] } as const;
const catalogue: { schemas: { 'dev.evkit.it.ping': object }; dataTypes?: { 'dev.evkit.it.ping': { n: number } } } = { schemas: { 'dev.evkit.it.ping': Ping } };

const until = async (done: () => boolean, timeoutMs: number) => {
  for (const start = Date.now(); !done(); await new Promise((r) => setTimeout(r, 100))) {
    if (Date.now() - start > timeoutMs) throw new Error(`not done within ${timeoutMs} ms`);
  }
};

describe('createEvkit on @platformatic/kafka', () => {
  it('publishes an event that a consumer with dedupe and retry receives: a failed attempt retried, a copy skipped', async () => {
    const run = randomUUID().slice(0, 8);
    const warnings: string[] = [];
    const ignore = () => {};
    const logger: Logger = { debug: ignore, info: ignore, warn: (message) => warnings.push(message), error: (message) => warnings.push(message) };
    const topic = `evkit-it-platformatic-${run}`;
    const evkit = createEvkit({
      source: '/evkit-it',
      catalogue,
      client: 'platformatic',
      kafka: { brokers: endpoints.kafkaBrokers, clientId: `evkit-it-${run}` },
      registry: { url: endpoints.registryUrl },
      postgres: { connectionString: endpoints.postgresUrl, maxConnections: 4 },
      logger,
    });
    try {
      await evkit.migrate();
      const attempts: number[] = [];
      const inTransaction: boolean[] = [];
      const consumer = evkit.consumer({
        groupId: `evkit-it-${run}`,
        topics: [topic],
        fromBeginning: true,
        retry: { attempts: 3, delaysMs: [200], jitter: 0 },
        // The broker's minimum session timeout, heartbeats every 500 ms: rebalances of about a second.
        group: { sessionTimeout: 6_000, heartbeatInterval: 500, rebalanceTimeout: 10_000, maxWaitTimeInMs: 100 },
      });
      consumer.on('dev.evkit.it.ping', async (event, context) => {
        attempts.push(event.data.n);
        inTransaction.push(context.transaction !== undefined);
        // The first attempt fails: the record goes to the retry topic and comes back.
        if (attempts.length === 1) throw new Error('first attempt fails');
      });
      await consumer.start();

      const event = { type: 'dev.evkit.it.ping', key: 'k-1', id: `ping-${run}`, data: { n: 7 } } as const;
      const { position } = await evkit.publish(topic, event);
      expect(position.topic).toBe(topic);
      await until(() => attempts.length >= 2, 45_000);
      // The same event again (same id): dedupe skips it, the handler does not run a third time.
      await evkit.publish(topic, event);
      await new Promise((r) => setTimeout(r, 3_000));
      const lag = await consumer.lag();
      expect({ attempts, inTransaction, warnings }).toEqual({ attempts: [7, 7], inTransaction: [true, true], warnings: ['handler failed: moved to a retry topic'] });
      expect(lag.filter((p) => p.topic === topic).reduce((sum, p) => sum + p.offsetLag, 0)).toBe(0);
    } finally {
      await evkit.close();
    }
  }, 120_000);
});
