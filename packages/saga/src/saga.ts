import type { PoolClient } from 'pg';
import { metrics } from '@opentelemetry/api';
import { activeEvent, newEventId, type CloudEvent } from '@evkit/envelope';
import { boundedErrorText } from '@evkit/errors';
import type { Evkit, ServiceConsumerOptions } from '@evkit/service';
import { createJsonLogger, type Logger } from '@evkit/telemetry';
import { compileSaga, type SagaDefinition } from './definition';
import { SagaConfigError } from './errors';
import { deleteFinishedOlderThan, listSagas, showSaga, type SagaDetails, type SagaListFilter, type SagaSummary } from './inspector';
import { begin as beginTransition, next, type SagaState, type Transition } from './machine';
import { validateSagaOptions } from './options';
import { addHistory, dueTimerOf, dueTimers, insertSaga, lockSaga, saveSaga, setTimer, type HistoryRow } from './store';
import { lockedMigrationSql, sagaTables } from './tables';
import { createTimerPoller, type TimerPoller } from './timers';

export interface SagaOptions<M, D> {
  /** createEvkit's value, with `postgres`: the outbox writer, transactions and the reply consumer come from it. */
  evkit: Evkit<M, true>;
  definition: SagaDefinition<M, D>;
  /** Where participants reply. Replies carry the saga id as their correlation id (evkit participants do so by themselves). */
  replyTopics: string[];
  /** The reply consumer's group. Default `saga-<name>`. */
  groupId?: string;
  /** Names the saga tables: `<table>`, `<table>_timeouts`, `<table>_history`. Default `evkit_saga`. */
  table?: string;
  /** The timer poller: how often it looks for due timers (default 500 ms) and how many per round (100). */
  timers?: { intervalMs?: number; batchSize?: number };
  /** More options of the reply consumer (`retry`, `fromBeginning`, `handlerTimeoutMs`...). */
  consumer?: Omit<ServiceConsumerOptions<true>, 'groupId' | 'topics' | 'dedupe'>;
  /** Default: JSON lines on stderr at `warn`. */
  logger?: Logger;
}

export interface BeginInput<D> {
  /** Default: a new UUIDv7. The saga id is the correlation id of every command. */
  id?: string;
  data: D;
}

export interface Saga<D> {
  readonly name: string;
  /** Creates the saga tables unless they exist (the outbox's and dedupe tables: `evkit.migrate()`). */
  migrate(): Promise<void>;
  /** Begins a saga in your transaction: its row and its first command commit with your change, or neither does. */
  begin(tx: PoolClient, input: BeginInput<D>): Promise<{ sagaId: string; commandId: string }>;
  /** Starts the reply consumer and the timer poller. */
  start(): Promise<void>;
  /** Stops both; the in-flight reply and timer finish first. `evkit.close()` stops the consumer too. */
  stop(): Promise<void>;
  /** Fires the timers due now (what the poller does each round); resolves with how many fired. */
  fireDueTimers(): Promise<number>;
  show(id: string): Promise<SagaDetails<D>>;
  list(filter?: Omit<SagaListFilter, 'name'>): Promise<SagaSummary[]>;
  /** Deletes completed and compensated sagas (with history) finished more than `maxAgeMs` ago; stuck ones stay. */
  deleteFinishedOlderThan(maxAgeMs: number): Promise<number>;
}

type Trigger = { causationid?: string | undefined; eventId?: string; eventType?: string };

/**
 * An orchestrated saga: its steps' commands and compensations are written through the outbox in
 * the transaction that changes its state, replies are consumed with dedupe (the processed-event
 * row, the state change and the commands commit together), and its timers are rows.
 */
export function createSaga<M, D>(options: SagaOptions<M, D>): Saga<D> {
  validateSagaOptions(options);
  const saga = compileSaga(options.definition);
  const { evkit, replyTopics, groupId = `saga-${saga.name}`, timers = {}, consumer: consumerOptions = {} } = options;
  const tables = sagaTables(options.table);
  const logger = options.logger ?? createJsonLogger('warn');
  const meter = metrics.getMeter('@evkit/saga');
  const counters = {
    started: meter.createCounter('evkit.saga.started', { description: 'Sagas begun' }),
    completed: meter.createCounter('evkit.saga.completed', { description: 'Sagas whose every step succeeded' }),
    compensated: meter.createCounter('evkit.saga.compensated', { description: 'Sagas undone by their compensations' }),
    stuck: meter.createCounter('evkit.saga.stuck', { description: 'Sagas whose forward recovery or compensation gave up: they need a person' }),
  };
  const stepName = (index: number) => saga.steps[index]!.step.name;

  /** Writes a transition: the state row (versioned), its commands to the outbox, its timer, its history. */
  const apply = async (tx: PoolClient, sagaId: string, version: number | undefined, t: Transition<D>, trigger: Trigger): Promise<string[]> => {
    const history: HistoryRow[] = t.history.map((e, i) => ({
      ...e,
      ...(e.step === undefined ? {} : { stepName: stepName(e.step) }),
      // The first entry is what the trigger did: it names the event.
      ...(i === 0 && trigger.eventId ? { eventId: trigger.eventId, eventType: trigger.eventType } : {}),
    }));
    if (t.outcome === 'ignored') {
      await addHistory(tx, tables, sagaId, version!, history);
      return [];
    }
    // Ids first, so the row saved names the commands whose replies it awaits.
    const ids = t.sends.map(() => newEventId());
    const state: SagaState<D> = { ...t.state, awaiting: [...t.state.awaiting, ...ids.filter((_, i) => t.sends[i]!.awaited)] };
    const current = stepName(state.step);
    const saved = version === undefined ? await insertSaga(tx, tables, sagaId, saga.name, state, current) : await saveSaga(tx, tables, sagaId, version, state, current);
    for (const [i, send] of t.sends.entries()) {
      const step = saga.steps[send.step]!;
      const command = send.kind === 'command' ? step.step.command : step.compensation!.command;
      const data = command.data(state.data, { sagaId, step: step.step.name, attempt: send.attempt });
      const key = command.key?.(state.data, sagaId) ?? sagaId;
      const causation = trigger.causationid === undefined ? {} : { causationid: trigger.causationid };
      const event = { id: ids[i]!, type: command.type, key, data, correlationid: sagaId, ...causation };
      await evkit.write(tx, command.topic, event);
      history.push({ kind: `${send.kind}-sent`, stepName: step.step.name, eventId: ids[i]!, eventType: command.type, detail: `attempt ${send.attempt} to ${command.topic}` });
    }
    await setTimer(tx, tables, sagaId, saved, t.timer);
    await addHistory(tx, tables, sagaId, saved, history);
    count(t);
    return ids;
  };

  // Counted when the transition is written: a transaction that then fails to commit and is done
  // again counts twice. The table (`evkit saga list --status`) is the exact figure.
  const count = (t: Transition<D>) => {
    const attributes = { saga: saga.name };
    if (t.history.some((e) => e.kind === 'started')) counters.started.add(1, attributes);
    if (t.state.status === 'completed') counters.completed.add(1, attributes);
    if (t.state.status === 'compensated') counters.compensated.add(1, attributes);
    if (t.state.status === 'stuck') counters.stuck.add(1, attributes);
  };

  const onReply = async (event: CloudEvent<unknown>, context: { transaction: PoolClient; logger: Logger }): Promise<void> => {
    const sagaId = event.correlationid;
    if (sagaId === undefined) {
      context.logger.warn('saga reply without a correlation id: ignored', { saga: saga.name });
      return;
    }
    const row = await lockSaga<D>(context.transaction, tables, sagaId);
    // Another saga type's reply (its orchestrator has a group of its own), or a saga deleted by
    // retention: nothing to record it against.
    if (row === undefined || row.name !== saga.name) {
      if (row === undefined) context.logger.info('reply for an unknown saga: ignored', { sagaId });
      return;
    }
    const t = next(saga, row.state, { kind: 'reply', event });
    await apply(context.transaction, sagaId, row.version, t, { causationid: event.id, eventId: event.id, eventType: event.type });
  };

  const fireTimer = (sagaId: string): Promise<boolean> =>
    evkit.inTransaction(async (tx) => {
      // SKIP LOCKED: a reply (or another poller) holds the saga; it decides, this round passes.
      const row = await lockSaga<D>(tx, tables, sagaId, true);
      if (row === undefined) return false;
      const timer = await dueTimerOf(tx, tables, sagaId);
      if (timer === undefined) return false; // the reply won: the transition that handled it cleared the timer
      if (timer.version !== row.version) {
        await setTimer(tx, tables, sagaId, row.version, undefined);
        return false;
      }
      const t = next(saga, row.state, { kind: timer.kind });
      // A timeout's commands are caused by the command that went unanswered.
      await apply(tx, sagaId, row.version, t, { causationid: row.state.awaiting.at(-1) });
      return true;
    });

  const fireDueTimers = async (): Promise<number> => {
    const due = await evkit.inTransaction((tx) => dueTimers(tx, tables, saga.name, timers.batchSize ?? 100));
    let fired = 0;
    for (const sagaId of due) if (await fireTimer(sagaId)) fired += 1;
    return fired;
  };

  let poller: TimerPoller | undefined;
  let consumer: ReturnType<Evkit<M, true>['consumer']> | undefined;

  return {
    name: saga.name,
    async migrate() {
      await evkit.inTransaction((tx) => tx.query(lockedMigrationSql({ table: tables.name })));
    },
    async begin(tx, input) {
      if (input === null || typeof input !== 'object' || !('data' in input)) throw new SagaConfigError('begin takes { id?, data }');
      const sagaId = input.id ?? newEventId();
      if (typeof sagaId !== 'string' || sagaId.length === 0) throw new SagaConfigError('a saga id must be a non-empty string');
      const t = beginTransition(saga, input.data);
      // Begun while handling an event (an order placed, say): that event caused the first command.
      const cause = activeEvent();
      const [commandId] = await apply(tx, sagaId, undefined, t, { causationid: cause?.id, ...(cause ? { eventId: cause.id, eventType: cause.type } : {}) });
      return { sagaId, commandId: commandId! };
    },
    async start() {
      if (consumer === undefined) {
        consumer = evkit.consumer({ ...consumerOptions, groupId, topics: replyTopics, dedupe: true });
        for (const type of saga.replyTypes) consumer.on(type as never, onReply);
      }
      await consumer.start();
      poller ??= createTimerPoller({
        fire: fireDueTimers,
        intervalMs: timers.intervalMs ?? 500,
        onError: (error) => logger.error('saga timer round failed', { saga: saga.name, error: boundedErrorText(error), code: (error as { code?: string }).code }),
      });
      poller.start();
    },
    async stop() {
      await poller?.stop();
      await consumer?.stop();
    },
    fireDueTimers,
    show: (id) => evkit.inTransaction((tx) => showSaga<D>(tx, tables, id)),
    list: (filter = {}) => evkit.inTransaction((tx) => listSagas(tx, tables, { ...filter, name: saga.name })),
    deleteFinishedOlderThan: (maxAgeMs) => evkit.inTransaction((tx) => deleteFinishedOlderThan(tx, tables, maxAgeMs)),
  };
}
