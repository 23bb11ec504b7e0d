import * as path from 'node:path';
import { Pool } from 'pg';
import { applyConnectorConfig, ConnectorNotFoundError, createConnectClient, waitUntilRunning } from '@evkit/connect';
import { newEventId } from '@evkit/envelope';
import { createOutboxWriter, migrateOutbox } from '@evkit/outbox';
import { assertPassed, check, drain } from '../support/checker';
import { REPO_ROOT, sized } from '../support/env';
import { bound, kill9, sleep, waitUntil } from '../support/faults';
import { checkerPool, memberSpec, namesFor, scenario, single, upSingle } from '../support/harness';
import { createTopic } from '../support/kafka';
import { keysNamed } from '../support/load';
import { startLocalMember } from '../support/member';
import { createStepCodec, STEP_SCHEMA, STEP_TYPE, type Step } from '../support/workload';

// 6. The Kafka Connect worker killed with kill -9 mid-stream, then restarted. Events are written
// to the transactional outbox (@evkit/outbox) and relayed by Debezium's Outbox Event Router with
// the shipped connector config. The ground truth is the committed outbox rows: every one must be
// handled once; what Connect relays twice (it resumes from its last flushed offset) must be
// absorbed by the dedupe store.

const CONNECTOR_FILE = path.join(REPO_ROOT, 'connect-configs', 'outbox-connector.json');

let pool: Pool;
beforeAll(async () => {
  await upSingle();
  pool = checkerPool();
}, 300_000);
afterAll(async () => {
  await pool?.end();
});

scenario('6', 'Connect worker kill -9 mid-stream (outbox relayed by Debezium), restarted', { quick: false, timeoutMs: 600_000 }, async () => {
  const startedAt = Date.now();
  const names = namesFor('6');
  const id = names.run.replace(/[^a-z0-9]/g, '_');
  const table = `faults_outbox_${id}`;
  const slot = `faults_slot_${id}`;
  const publication = `faults_pub_${id}`;
  const connectorName = `faults-outbox-${id}`;
  const brokers = single.endpoints.kafkaBrokers;
  const connect = createConnectClient({ url: single.endpoints.connectUrl });
  const pg = new URL(single.endpoints.postgresUrl);
  const env = {
    EVKIT_OUTBOX_CONNECTOR: connectorName,
    EVKIT_OUTBOX_DB_HOST: pg.hostname,
    EVKIT_OUTBOX_DB_PORT: pg.port,
    EVKIT_OUTBOX_DB_USER: decodeURIComponent(pg.username),
    EVKIT_OUTBOX_DB_PASSWORD: decodeURIComponent(pg.password),
    EVKIT_OUTBOX_DB_NAME: pg.pathname.slice(1),
    EVKIT_OUTBOX_SLOT: slot,
    EVKIT_OUTBOX_PUBLICATION: publication,
    EVKIT_OUTBOX_TABLE: table,
    EVKIT_OUTBOX_TOPIC_PREFIX: `faults-${id}`,
    EVKIT_OUTBOX_HEARTBEAT_MS: '1000',
  };
  const writerPool = new Pool({ connectionString: single.endpoints.postgresUrl, max: 10 });
  writerPool.on('error', () => {});
  const writer = createOutboxWriter({ codec: createStepCodec(single.endpoints.registryUrl), source: '/evkit-faults', table });
  const committed: Step[] = [];
  const notes: string[] = [];
  let member: Awaited<ReturnType<typeof startLocalMember>> | undefined;
  let stop = false;
  try {
    await migrateOutbox(writerPool, { table });
    await createTopic(brokers, names.topic);
    await applyConnectorConfig({ client: connect, file: CONNECTOR_FILE, env, timeoutMs: 120_000 });
    member = await startLocalMember(memberSpec(names, 'm1'));

    // Each key's events written one after the other, each in its own transaction.
    const keys = keysNamed('k', 8);
    const perKey = sized(80, 40);
    const total = keys.length * perKey;
    const writeKey = async (key: string) => {
      for (let seq = 0; seq < perKey && !stop; seq += 1) {
        const step: Step = { run: names.run, key, seq, uid: newEventId() };
        const client = await writerPool.connect();
        try {
          await client.query('BEGIN');
          await writer.write(client, { aggregateType: names.topic, aggregateId: key, event: { id: step.uid, type: STEP_TYPE, data: step }, schema: STEP_SCHEMA });
          await client.query('COMMIT');
          committed.push(step);
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        } finally {
          client.release();
        }
        await sleep(40);
      }
    };
    const writing = Promise.all(keys.map(writeKey));
    // Mid-stream: the relay is running and the consumer has handled a share of what was written.
    await waitUntil(
      'a quarter relayed and handled',
      async () => (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM faults_effects WHERE run = $1', [names.run])).rows[0]!.n >= total / 4,
      120_000,
    );
    const faultAt = await kill9(single.pidOf('connect')!, 'the Connect worker');
    const writtenAtKill = committed.length;
    const { rows: handledAtKill } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM faults_effects WHERE run = $1', [names.run]);
    await sleep(3000);
    await single.up(); // restarts the worker; the connector's task resumes from its last flushed offset
    const healAt = Date.now();
    await waitUntilRunning({ client: connect, name: connectorName, timeoutMs: 120_000 });
    notes.push(
      `worker killed with ${writtenAtKill} of ${total} events committed to the outbox, ${handledAtKill[0]!.n} handled; healthy again after ${((healAt - faultAt) / 1000).toFixed(1)} s, connector RUNNING after ${((Date.now() - faultAt) / 1000).toFixed(1)} s`,
    );
    await Promise.race([writing, bound(240_000)]);
    stop = true;
    const truth = { acked: committed };
    const drained = await drain(pool, names.run, truth, { timeoutMs: 180_000, settleMs: 3000 });
    if (!drained) notes.push('did not drain within the window');
    const figures = await check({
      scenario: '6',
      title: 'Connect worker kill -9 mid-stream (outbox → Debezium), restarted',
      pool,
      run: names.run,
      truth,
      group: { brokers, groupId: names.groupId, topic: names.topic },
      orderPromised: true,
      faultAt,
      healAt,
      startedAt,
      notes: [...notes, 'ground truth: the committed outbox rows'],
    });
    assertPassed(figures);
  } finally {
    stop = true;
    await member?.stop().catch(() => undefined);
    await single.up();
    await connect.deleteConnector(connectorName).catch((error: unknown) => {
      if (!(error instanceof ConnectorNotFoundError)) throw error;
    });
    // An unread slot keeps WAL forever: drop it once the walsender let go.
    await waitUntil(
      `slot ${slot} released`,
      async () => {
        const { rows } = await writerPool.query<{ active: boolean }>('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [slot]);
        if (rows.length === 0) return true;
        if (rows[0]!.active) return false;
        await writerPool.query('SELECT pg_drop_replication_slot($1)', [slot]);
        return true;
      },
      60_000,
    ).catch(() => undefined);
    await writerPool.query(`DROP PUBLICATION IF EXISTS ${publication}`).catch(() => undefined);
    await writerPool.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    await writerPool.query('CHECKPOINT').catch(() => undefined);
    await writerPool.end();
  }
});
