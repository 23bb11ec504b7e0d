import { interleave } from '../harness/interleave';
import type { WorkerSpec } from '../harness/protocol';
import { nodeVariant, startAll } from '../harness/variants';
import type { OutboxRun } from '../workers/outbox';
import { debeziumUnavailable, withOutboxConnector } from './debezium';
import { selected, type ScenarioContext, type ScenarioResult } from './types';

type OutboxSpec = Extract<WorkerSpec, { kind: 'outbox' }>;

const RELAYS: { id: string; label: string; relay: OutboxSpec['relay']; what: string }[] = [
  {
    id: 'debezium',
    label: 'Debezium Outbox Event Router',
    relay: { kind: 'debezium' },
    what: 'connect-configs/outbox-connector.json on the stack\'s Connect worker (Debezium 3.4 PostgreSQL connector, pgoutput, EventRouter)',
  },
  { id: 'polling-500ms', label: 'polling relay (default intervalMs 500)', relay: { kind: 'polling', intervalMs: 500 }, what: 'createPollingRelay() in the process, defaults (batchSize 100, intervalMs 500)' },
  { id: 'polling-50ms', label: 'polling relay (intervalMs 50)', relay: { kind: 'polling', intervalMs: 50 }, what: 'createPollingRelay({ intervalMs: 50 }) in the process' },
];

/** Outbox commit → handler latency at a fixed offered rate, timed from the send schedule. */
export async function outboxScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  const { settings, resources, endpoints } = ctx;
  const { outboxRate: rate, outboxSeconds: seconds } = settings;
  const topicOf = (variant: string, rep: number) => resources.topic('outbox', variant, rep);
  const reps = Array.from({ length: settings.repetitions + 1 }, (_, rep) => rep);
  const debezium = debeziumUnavailable();
  const relays = RELAYS.filter((relay) => selected(ctx, [relay.id]).length > 0);
  await resources.createTopics(relays.flatMap(({ id }) => reps.map((rep) => topicOf(id, rep))));
  ctx.log(`outbox: ${rate} events/s for ${seconds} s per run, writer → relay → evkit consumer`);

  const measure = async () => {
    const variants = await startAll(
      relays.map(({ id, label, relay, what }) => () =>
        nodeVariant({
          id,
          label,
          what: `@evkit/outbox writer (one transaction per event, up to 8 at once) → ${what} → @evkit/consumer no-op handler`,
          spec: { kind: 'outbox', outboxTable: relay.kind === 'debezium' ? ctx.tables.outboxCdc : ctx.tables.outbox, relay },
          endpoints,
          // The Debezium table is never truncated: the connector would see the TRUNCATE.
          ...(relay.kind === 'polling' ? { beforeRun: () => resources.truncate(ctx.tables.outbox) } : {}),
          ...(relay.kind === 'debezium' && debezium ? { unavailable: debezium } : {}),
          payload: (rep): OutboxRun => ({ topic: topicOf(id, rep), groupId: resources.topic('outbox', 'group', id, rep), rate, seconds }),
        }),
      ),
    );
    return interleave(variants, settings, ctx.log);
  };
  const withDebezium = relays.some((r) => r.relay.kind === 'debezium') && !debezium;
  const results = withDebezium ? await withOutboxConnector(ctx, measure) : await measure();

  return {
    id: 'outbox-latency',
    title: `Outbox end to end: commit → handler at ${rate.toLocaleString('en-US')} events/s`,
    description:
      `${Math.round(rate * seconds).toLocaleString('en-US')} events per run written on a fixed schedule (${rate}/s), each in its own PostgreSQL ` +
      `transaction, relayed to a fresh 6-partition topic and handled by an evkit consumer in the writer's process; latency is the handler's time ` +
      `minus the scheduled commit time, so a write that falls behind counts from when it was due. Records/s: events handled per second.`,
    kind: 'latency',
    variants: results,
    notes: [],
    profiles: [],
  };
}
