import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { Kafka, logLevel, type IHeaders } from 'kafkajs';
import type { Pool } from 'pg';
import { applyConnectorConfig, ConnectorNotFoundError, createConnectClient, type ConnectClient } from '@evkit/connect';
import { createLocalStack } from '@evkit/stack';
import { createTopicsAndWait } from '@evkit/transport-kafkajs';

// Shared by the outbox integration files: names unique per run, the shipped connector applied
// to a table of the run's own, and teardown that drops the slot (an unread slot keeps WAL forever).

export const stack = createLocalStack();
export const { endpoints } = stack;
export const kafka = new Kafka({ clientId: 'evkit-it-outbox', brokers: endpoints.kafkaBrokers, logLevel: logLevel.NOTHING });
export const connect: ConnectClient = createConnectClient({ url: endpoints.connectUrl });
export const CONNECTOR_FILE = path.resolve(__dirname, '../../../connect-configs/outbox-connector.json');
export const PARTITIONS = 3;

export const orderPlacedSchema = {
  type: 'record',
  name: 'OrderPlaced',
  namespace: 'dev.evkit.it.outbox',
  fields: [
    { name: 'orderId', type: 'string' },
    { name: 'seq', type: 'int' },
  ],
};
export const ORDER_PLACED = 'dev.evkit.it.order.placed';

/** A short id for the names of one run's table, slot, publication, connector and topic. */
export function runId(): string {
  return randomUUID().replace(/-/g, '').slice(0, 10);
}

export async function createTopic(topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await createTopicsAndWait(admin, [{ topic, numPartitions: PARTITIONS }]);
  } finally {
    await admin.disconnect();
  }
}

/** The environment the shipped connector file takes, pointing at the local stack's PostgreSQL. */
export function connectorEnv(run: string, table: string): Record<string, string> {
  const pg = new URL(endpoints.postgresUrl);
  return {
    EVKIT_OUTBOX_CONNECTOR: `evkit-it-outbox-${run}`,
    EVKIT_OUTBOX_DB_HOST: pg.hostname,
    EVKIT_OUTBOX_DB_PORT: pg.port || '5432',
    EVKIT_OUTBOX_DB_USER: decodeURIComponent(pg.username),
    EVKIT_OUTBOX_DB_PASSWORD: decodeURIComponent(pg.password),
    EVKIT_OUTBOX_DB_NAME: pg.pathname.slice(1),
    EVKIT_OUTBOX_SLOT: `evkit_it_slot_${run}`,
    EVKIT_OUTBOX_PUBLICATION: `evkit_it_pub_${run}`,
    EVKIT_OUTBOX_TABLE: table,
    EVKIT_OUTBOX_TOPIC_PREFIX: `evkit-it-${run}`,
    EVKIT_OUTBOX_HEARTBEAT_MS: '1000',
  };
}

export interface OutboxConnector {
  name: string;
  slot: string;
  /** Deletes the connector, then drops its slot and publication. */
  remove(): Promise<void>;
}

/** Applies connect-configs/outbox-connector.json for `table` and waits until it runs. */
export async function startOutboxConnector(pool: Pool, run: string, table: string): Promise<OutboxConnector> {
  const env = connectorEnv(run, table);
  const name = env.EVKIT_OUTBOX_CONNECTOR!;
  const slot = env.EVKIT_OUTBOX_SLOT!;
  const remove = async () => {
    await connect.deleteConnector(name).catch((error: unknown) => {
      if (!(error instanceof ConnectorNotFoundError)) throw error;
    });
    // The walsender lets go of the slot a moment after the task stops.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const { rows } = await pool.query<{ active: boolean }>('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [slot]);
      if (rows.length === 0) break;
      if (!rows[0]!.active) {
        await pool.query('SELECT pg_drop_replication_slot($1)', [slot]);
        break;
      }
      if (Date.now() > deadline) throw new Error(`slot ${slot} still active a minute after the connector was deleted`);
      await sleep(500);
    }
    await pool.query(`DROP PUBLICATION IF EXISTS ${env.EVKIT_OUTBOX_PUBLICATION}`);
    // Logical decoding leaves serialized snapshots (pg_logical/snapshots/*.snap) until the next
    // checkpoint; inside the repository's .stack/ Jest would take them for obsolete snapshot files.
    await pool.query('CHECKPOINT');
  };
  try {
    await applyConnectorConfig({ client: connect, file: CONNECTOR_FILE, env, timeoutMs: 90_000 });
  } catch (error) {
    await remove();
    throw error;
  }
  return { name, slot, remove };
}

export interface ReceivedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
  /** Header names in the order they came. */
  headerOrder: string[];
}

/**
 * Reads `topic` from the beginning until `count` records came, then `settleMs` longer so that an
 * extra record (a duplicate, a rolled-back event) would show up too.
 */
export async function readRecords(topic: string, count: number, { timeoutMs = 60_000, settleMs = 3000 } = {}): Promise<ReceivedRecord[]> {
  const consumer = kafka.consumer({ groupId: `evkit-it-reader-${randomUUID()}` });
  const received: ReceivedRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        received.push({
          topic,
          partition,
          offset: message.offset,
          key: message.key,
          value: message.value,
          headers: message.headers ?? {},
          headerOrder: Object.keys(message.headers ?? {}),
        });
      },
    });
    const deadline = Date.now() + timeoutMs;
    while (received.length < count && Date.now() < deadline) await sleep(100);
    await sleep(settleMs);
  } finally {
    await consumer.disconnect();
  }
  return received;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function waitFor(what: string, condition: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(200);
  }
}
