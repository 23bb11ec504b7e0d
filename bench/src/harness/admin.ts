import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { Partitioners, type Admin, type Producer } from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'pg';
import { kafkaJsClient, subjectOf } from '../clients/kafkajs';
import { fixtureRecord, ORDER_SCHEMA_TEXT } from '../fixture';
import { PARTITIONS } from '../settings';
import type { Endpoints } from './protocol';

/**
 * Topics, subjects and tables of one benchmark run, all named under `bench.<runId>.` so that
 * cleanup removes exactly what the run made.
 */
export class BenchResources {
  readonly prefix: string;
  private readonly admin: Admin;
  private readonly producer: Producer;
  private readonly registry: SchemaRegistry;
  readonly pool: Pool;

  constructor(
    private readonly endpoints: Endpoints,
    runId: string,
  ) {
    this.prefix = `bench.${runId}.`;
    const kafka = kafkaJsClient(endpoints, 'bench-admin');
    this.admin = kafka.admin();
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    this.registry = new SchemaRegistry({ host: endpoints.registryUrl });
    this.pool = new Pool({ connectionString: endpoints.postgresUrl, max: 2 });
  }

  async connect(): Promise<void> {
    await this.admin.connect();
    await this.producer.connect();
  }

  topic(...parts: (string | number)[]): string {
    return this.prefix + parts.join('.');
  }

  /** Fresh topics with PARTITIONS partitions each, created in one request per 50, then waited for. */
  async createTopics(topics: readonly string[]): Promise<void> {
    for (let i = 0; i < topics.length; i += 50) {
      const chunk = topics.slice(i, i + 50);
      // KafkaJS's own waitForLeaders gives up when the broker's metadata cache answers
      // UNKNOWN_TOPIC_OR_PARTITION for a topic the controller created a moment ago.
      await this.admin.createTopics({ waitForLeaders: false, topics: chunk.map((topic) => ({ topic, numPartitions: PARTITIONS, replicationFactor: 1 })) });
      await this.waitForLeaders(chunk);
    }
  }

  private async waitForLeaders(topics: readonly string[]): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        const { topics: metadata } = await this.admin.fetchTopicMetadata({ topics: [...topics] });
        if (metadata.every((t) => t.partitions.length === PARTITIONS && t.partitions.every((p) => p.leader >= 0))) return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
      }
      if (Date.now() > deadline) throw new Error(`topics have no leaders after 60 s: ${topics.join(', ')}`);
      await sleep(200);
    }
  }

  /** Registers the fixture schema; its id goes into every pre-encoded value. */
  async registerFixtureSchema(): Promise<number> {
    const { id } = await this.registry.register({ type: SchemaType.AVRO, schema: ORDER_SCHEMA_TEXT }, { subject: subjectOf(this.topic('fixture')) });
    return id;
  }

  /** Writes `count` fixture records, each with its own event id, to a fresh topic. */
  async prefill(topic: string, count: number, valueBytes: number, schemaId: number): Promise<void> {
    await this.createTopics([topic]);
    const chunk = 1_000;
    for (let start = 0; start < count; start += chunk) {
      const messages = Array.from({ length: Math.min(chunk, count - start) }, (_, i) => fixtureRecord(start + i, valueBytes, schemaId));
      await this.producer.send({ topic, acks: -1, messages });
    }
  }

  async truncate(table: string): Promise<void> {
    await this.pool.query(`TRUNCATE ${table}`).catch((error: { code?: string }) => {
      if (error.code !== '42P01') throw error; // not created yet
    });
  }

  async dropTables(tables: readonly string[]): Promise<void> {
    for (const table of tables) {
      await this.pool.query(`DROP TABLE IF EXISTS ${table}`);
      await this.pool.query(`DROP FUNCTION IF EXISTS "${table}_relay_route"()`); // the outbox's trigger function
    }
  }

  /** Deletes the run's topics so far (retry and dead-letter topics included): after each scenario. */
  async deleteTopics(): Promise<void> {
    const topics = (await this.admin.listTopics()).filter((topic) => topic.includes(this.prefix)); // Debezium's heartbeat topic is __debezium-heartbeat.<prefix>
    for (let i = 0; i < topics.length; i += 50) {
      // One request per chunk; a topic already gone fails the request, so then one by one.
      await this.admin.deleteTopics({ topics: topics.slice(i, i + 50) }).catch(async () => {
        for (const topic of topics.slice(i, i + 50)) await this.admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      });
    }
  }

  /** Deletes the run's topics and registry subjects. */
  async cleanup(): Promise<void> {
    await this.deleteTopics();
    const subjects = await listSubjects(this.endpoints.registryUrl);
    for (const subject of subjects.filter((s) => s.startsWith(this.prefix))) {
      await fetch(`${this.endpoints.registryUrl}/subjects/${encodeURIComponent(subject)}`, { method: 'DELETE' });
      await fetch(`${this.endpoints.registryUrl}/subjects/${encodeURIComponent(subject)}?permanent=true`, { method: 'DELETE' });
    }
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
    await this.admin.disconnect();
    await this.pool.end();
  }
}

async function listSubjects(registryUrl: string): Promise<string[]> {
  const response = await fetch(`${registryUrl}/subjects`);
  return response.ok ? ((await response.json()) as string[]) : [];
}
