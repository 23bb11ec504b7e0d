import * as os from 'node:os';
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
  {
    id: 'polling',
    label: 'polling relay, defaults (LISTEN/NOTIFY, interval 500 ms as fallback)',
    relay: { kind: 'polling', intervalMs: 500 },
    what: 'createEvkit\'s startRelay() in the process, defaults: woken by the writer\'s NOTIFY, batchSize 100',
  },
];

/** Repetitions per relay and rate: two relays at four rates, 10 s a run, would take over 8 minutes at the full run's 5. */
const OUTBOX_REPETITIONS = 3;

/**
 * Outbox commit → handler latency at one offered rate of the curve, timed from the send schedule.
 * The quick run offers at most its own small rate, so every relay still runs end to end.
 */
export async function outboxScenario(ctx: ScenarioContext, offered: number): Promise<ScenarioResult> {
  const { resources, endpoints } = ctx;
  const settings = { ...ctx.settings, repetitions: Math.min(ctx.settings.repetitions, OUTBOX_REPETITIONS) };
  const rate = Math.min(offered, settings.outboxRate);
  const seconds = settings.outboxSeconds;
  const topicOf = (variant: string, rep: number) => resources.topic('outbox', String(offered), variant, rep);
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
          what: `createEvkit's write (one transaction per event, up to 8 at once) → ${what} → its consumer, a no-op handler`,
          spec: { kind: 'outbox', outboxTable: relay.kind === 'debezium' ? ctx.tables.outboxCdc : ctx.tables.outbox, relay },
          endpoints,
          // The Debezium table is never truncated: the connector would see the TRUNCATE.
          ...(relay.kind === 'polling' ? { beforeRun: () => resources.truncate(ctx.tables.outbox) } : {}),
          ...(relay.kind === 'debezium' && debezium ? { unavailable: debezium } : {}),
          payload: (rep): OutboxRun => ({ topic: topicOf(id, rep), groupId: resources.topic('outbox', 'group', String(offered), id, rep), rate, seconds }),
        }),
      ),
    );
    return interleave(variants, settings, ctx.log);
  };
  const withDebezium = relays.some((r) => r.relay.kind === 'debezium') && !debezium;
  const loadBefore = os.loadavg();
  const results = withDebezium ? await withOutboxConnector(ctx, measure) : await measure();
  const load = (sample: number[]) => sample.map((value) => value.toFixed(2)).join(', ');

  return {
    id: `outbox-latency-${offered}`,
    title: `Outbox end to end: commit → handler at ${rate.toLocaleString('en-US')} events/s`,
    description:
      `${Math.round(rate * seconds).toLocaleString('en-US')} events per run written on a fixed schedule (${rate}/s), each in its own PostgreSQL ` +
      `transaction, relayed to a fresh 6-partition topic and handled by an evkit consumer in the writer's process; latency is the handler's time ` +
      `minus the scheduled commit time, so a write that falls behind counts from when it was due. Records/s: events handled per second.`,
    kind: 'latency',
    offeredRate: rate,
    variants: results,
    // The curve bends where the machine saturates; the load says whether it was the relay or the machine.
    notes: [`Load average (1, 5, 15 min) before ${load(loadBefore)}; after ${load(os.loadavg())}.`],
    profiles: [],
  };
}
