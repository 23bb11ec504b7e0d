import { randomUUID } from 'node:crypto';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { Client } from 'pg';
import type { StackEndpoints } from './config';
import { StackServiceUnhealthyError } from './errors';

export interface SmokeStep {
  step: string;
  ms: number;
  detail: string;
}

/**
 * One pass over every service through the clients evkit uses: an Avro record registered,
 * encoded, produced with idempotence, consumed by a group and decoded; Connect's Debezium plugin
 * listed; PostgreSQL's WAL level read. Throws on the first failure.
 */
export async function runSmoke(endpoints: StackEndpoints, report: (step: SmokeStep) => void): Promise<void> {
  const timed = async (step: string, fn: () => Promise<string>): Promise<void> => {
    const started = Date.now();
    const detail = await fn();
    report({ step, ms: Date.now() - started, detail });
  };
  const runId = randomUUID().slice(0, 8);
  const topic = `evkit.smoke.${runId}`;
  const registry = new SchemaRegistry({ host: endpoints.registryUrl });
  const kafka = new Kafka({ clientId: 'evkit-smoke', brokers: endpoints.kafkaBrokers, logLevel: logLevel.WARN });

  let schemaId = 0;
  await timed('register Avro schema', async () => {
    const schema = {
      type: 'record',
      name: 'SmokeTested',
      namespace: 'dev.evkit.smoke',
      fields: [
        { name: 'runId', type: 'string' },
        { name: 'at', type: 'long' },
      ],
    };
    ({ id: schemaId } = await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
      { subject: `${topic}-value` },
    ));
    return `subject ${topic}-value, schema id ${schemaId}`;
  });

  await timed('produce and consume', async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    await admin.disconnect();

    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner, // murmur2, as Java's client
    });
    await producer.connect();
    const value = await registry.encode(schemaId, { runId, at: Date.now() });
    await producer.send({ topic, acks: -1, messages: [{ key: runId, value }] });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: `evkit-smoke-${runId}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const decoded = await new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => reject(new StackServiceUnhealthyError('no record consumed within 30 s')), 30_000);
      consumer
        .run({
          eachMessage: async ({ message }) => {
            clearTimeout(timer);
            resolve(await registry.decode(message.value as Buffer));
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    return `round trip on ${topic}: ${JSON.stringify(decoded)}`;
  });

  await timed('Kafka Connect plugins', async () => {
    const response = await fetch(`${endpoints.connectUrl}/connector-plugins?connectorsOnly=false`);
    const plugins = (await response.json()) as { class: string }[];
    const wanted = ['io.debezium.connector.postgresql.PostgresConnector', 'io.debezium.transforms.outbox.EventRouter'];
    const missing = wanted.filter((w) => !plugins.some((p) => p.class === w));
    if (missing.length > 0) throw new StackServiceUnhealthyError(`Connect lacks ${missing.join(', ')}`);
    return wanted.join(', ');
  });

  await timed('PostgreSQL logical WAL', async () => {
    const client = new Client({ connectionString: endpoints.postgresUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ wal_level: string }>('show wal_level');
      if (rows[0]?.wal_level !== 'logical') {
        throw new StackServiceUnhealthyError(`wal_level is ${rows[0]?.wal_level}, Debezium needs logical`);
      }
      return 'wal_level=logical';
    } finally {
      await client.end();
    }
  });
}
