import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { applyConnectorConfig, createConnectClient } from '@evkit/connect';
import { migrateOutbox } from '@evkit/outbox';
import type { Pool } from 'pg';
import type { ScenarioContext } from './types';

const CONNECTOR_FILE = path.resolve(__dirname, '..', '..', '..', 'connect-configs', 'outbox-connector.json');

/** Why the Debezium relay cannot be measured here, if it cannot. */
export function debeziumUnavailable(): string | undefined {
  return fs.existsSync(CONNECTOR_FILE) ? undefined : `${path.relative(process.cwd(), CONNECTOR_FILE)} is missing`;
}

/**
 * The repository's outbox connector (connect-configs/outbox-connector.json) for this run's own
 * outbox table, slot and publication, on the stack's Connect worker; removed again afterwards,
 * slot and publication included (an unread slot would keep WAL forever).
 */
export async function withOutboxConnector<T>(ctx: ScenarioContext, work: () => Promise<T>): Promise<T> {
  const client = createConnectClient({ url: ctx.connectUrl });
  const name = `bench-${ctx.runId}-outbox`;
  const slot = `bench_${ctx.runId}`;
  const url = new URL(ctx.endpoints.postgresUrl);
  await migrateOutbox(ctx.resources.pool, { table: ctx.tables.outboxCdc });
  const env = {
    EVKIT_OUTBOX_CONNECTOR: name,
    EVKIT_OUTBOX_DB_HOST: url.hostname,
    EVKIT_OUTBOX_DB_PORT: url.port,
    EVKIT_OUTBOX_DB_USER: decodeURIComponent(url.username),
    EVKIT_OUTBOX_DB_PASSWORD: decodeURIComponent(url.password),
    EVKIT_OUTBOX_DB_NAME: url.pathname.slice(1),
    EVKIT_OUTBOX_SLOT: slot,
    EVKIT_OUTBOX_PUBLICATION: slot,
    EVKIT_OUTBOX_TABLE: ctx.tables.outboxCdc,
    EVKIT_OUTBOX_TOPIC_PREFIX: ctx.resources.topic('cdc'),
  };
  ctx.log(`  Debezium: applying ${name} (slot ${slot}, table ${ctx.tables.outboxCdc})`);
  try {
    await applyConnectorConfig({ client, file: CONNECTOR_FILE, env, timeoutMs: 120_000 });
    return await work();
  } finally {
    await removeOutboxConnector({ connectUrl: ctx.connectUrl, runId: ctx.runId, pool: ctx.resources.pool, log: ctx.log });
  }
}

/** Deletes a run's connector, then its replication slot (once the task let go of it) and publication. */
export async function removeOutboxConnector(options: { connectUrl: string; runId: string; pool: Pool; log: (line: string) => void }): Promise<void> {
  const { pool, log } = options;
  const name = `bench-${options.runId}-outbox`;
  const slot = `bench_${options.runId}`;
  const client = createConnectClient({ url: options.connectUrl });
  if ((await client.listConnectors()).includes(name)) {
    await client.deleteConnector(name).catch((error: unknown) => log(`  Debezium: deleting ${name}: ${String(error)}`));
  }
  for (let attempt = 0; attempt < 60; attempt++) {
    const { rows } = await pool.query<{ active: boolean }>('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [slot]);
    if (rows.length === 0) break;
    if (!rows[0]!.active) {
      await pool.query('SELECT pg_drop_replication_slot($1)', [slot]);
      break;
    }
    if (attempt === 59) log(`  Debezium: replication slot ${slot} still active after 30 s: drop it by hand (SELECT pg_drop_replication_slot('${slot}'))`);
    await sleep(500); // the task is still stopping
  }
  await pool.query(`DROP PUBLICATION IF EXISTS ${slot}`);
}
