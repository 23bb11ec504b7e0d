import type { CloudEvent } from '@evkit/envelope';
import type { EventTypeOf } from '@evkit/service';
import { SagaConfigError } from './errors';

/** What a command's data function knows besides the saga's data. */
export interface CommandContext {
  readonly sagaId: string;
  /** The step the command belongs to. */
  readonly step: string;
  /** 1 for the first send, 2 for the first retry... Data must not depend on it where the participant dedupes by content. */
  readonly attempt: number;
}

/**
 * An event to another service, written through the outbox with the saga's state change. One
 * member per catalogue type, so `data` must return that type's data.
 */
export type SagaCommand<M, D> = {
  [K in EventTypeOf<M>]: {
    topic: string;
    type: K;
    data: (data: D, context: CommandContext) => M[K];
    /** The record key. Default: the saga id, so a saga's commands keep their order. */
    key?: (data: D, sagaId: string) => string;
  };
}[EventTypeOf<M>];

/** Forward recovery: the same command again, `attempts` in all, `delayMs` apart. */
export interface RetryPolicy {
  /** Attempts in all, the first included. Default 3. */
  attempts?: number;
  /** Pause before a resend, kept as a timer row. Default 0 (at once). */
  delayMs?: number;
}

type OneOrMore<T> = T | readonly T[];

/** A compensation: a command through the outbox; with `success` the saga waits for its reply before the next one. */
export type SagaCompensation<M, D> = SagaCommand<M, D> & {
  /** Reply types that confirm it. Without them the compensation counts as done once its command is committed. */
  success?: OneOrMore<EventTypeOf<M>>;
  /** Reply types that refuse it: it is sent again (retry), then the saga is stuck. */
  failure?: OneOrMore<EventTypeOf<M>>;
  /** How long to wait for `success`; a timeout counts as a failure. */
  timeoutMs?: number;
  retry?: RetryPolicy;
};

export interface SagaStep<M, D> {
  /** Unique in the saga; in history, the CLI and logs. */
  name: string;
  command: SagaCommand<M, D>;
  /** Reply types that complete the step (the reply's correlation id is the saga id). */
  success: OneOrMore<EventTypeOf<M>>;
  /** Reply types that fail it: backward recovery before the pivot, forward (retry) after. */
  failure?: OneOrMore<EventTypeOf<M>>;
  /** Takes what the saga needs from the success reply (a payment id for the refund, say). */
  onSuccess?: (data: D, reply: CloudEvent<M[EventTypeOf<M>]>) => D;
  /** Undoes the step. Never run for a step after the pivot. */
  compensation?: SagaCompensation<M, D>;
  /** No reply within this time counts as a failure; before the pivot the step itself is compensated too. */
  timeoutMs?: number;
  /** The point of no return: once it succeeded, failures of later steps are retried, never compensated. */
  pivot?: boolean;
  /** Forward recovery of a step after the pivot. */
  retry?: RetryPolicy;
}

export interface SagaDefinition<M, D> {
  /** Names the saga type in the table, the CLI and metrics. */
  name: string;
  steps: readonly SagaStep<M, D>[];
}

/** A definition checked once: reply types looked up as sets, the pivot's index known. */
export interface CompiledSaga<M, D> {
  readonly definition: SagaDefinition<M, D>;
  readonly name: string;
  readonly steps: readonly CompiledStep<M, D>[];
  /** -1 without a pivot: every failure goes back. */
  readonly pivot: number;
  /** Every reply type the saga listens for. */
  readonly replyTypes: readonly string[];
}

export interface CompiledStep<M, D> {
  readonly step: SagaStep<M, D>;
  readonly success: ReadonlySet<string>;
  readonly failure: ReadonlySet<string>;
  readonly attempts: number;
  readonly delayMs: number;
  readonly compensation?: {
    readonly command: SagaCompensation<M, D>;
    readonly success: ReadonlySet<string>;
    readonly failure: ReadonlySet<string>;
    readonly awaited: boolean;
    readonly attempts: number;
    readonly delayMs: number;
  };
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Checks a saga definition at the edge and returns it typed; createSaga calls it too. */
export function defineSaga<M, D>(definition: SagaDefinition<M, D>): SagaDefinition<M, D> {
  compileSaga(definition);
  return definition;
}

export function compileSaga<M, D>(definition: SagaDefinition<M, D>): CompiledSaga<M, D> {
  if (definition === null || typeof definition !== 'object') throw new SagaConfigError('a saga definition ({ name, steps }) is required');
  const { name, steps } = definition;
  if (typeof name !== 'string' || !NAME.test(name)) throw new SagaConfigError(`saga name must be 1-100 letters, digits, '.', '_' or '-', got ${JSON.stringify(name)}`);
  if (!Array.isArray(steps) || steps.length === 0) throw new SagaConfigError(`saga ${name}: steps must be a list of one or more steps`);
  const seen = new Set<string>();
  const replyTypes = new Set<string>();
  const compiled = steps.map((step: SagaStep<M, D>, index) => {
    const where = `saga ${name}, step ${index + 1}`;
    if (step === null || typeof step !== 'object') throw new SagaConfigError(`${where} must be an object`);
    if (typeof step.name !== 'string' || !NAME.test(step.name)) throw new SagaConfigError(`${where}: name must be 1-100 letters, digits, '.', '_' or '-'`);
    if (seen.has(step.name)) throw new SagaConfigError(`${where}: the name ${step.name} is used twice`);
    seen.add(step.name);
    const at = `saga ${name}, step ${step.name}`;
    checkCommand(step.command, `${at}: command`);
    const success = typeSet(step.success, `${at}: success`, true);
    const failure = typeSet(step.failure, `${at}: failure`, false);
    for (const type of success) if (failure.has(type)) throw new SagaConfigError(`${at}: ${type} is both a success and a failure reply`);
    checkMs(step.timeoutMs, `${at}: timeoutMs`);
    if (step.onSuccess !== undefined && typeof step.onSuccess !== 'function') throw new SagaConfigError(`${at}: onSuccess must be a function`);
    if (step.pivot !== undefined && typeof step.pivot !== 'boolean') throw new SagaConfigError(`${at}: pivot must be a boolean`);
    [...success, ...failure].forEach((t) => replyTypes.add(t));
    const out: CompiledStep<M, D> = { step, success, failure, ...retryOf(step.retry, `${at}: retry`) };
    const c = step.compensation;
    if (c === undefined) return out;
    checkCommand(c, `${at}: compensation`);
    const cSuccess = typeSet(c.success, `${at}: compensation success`, false);
    const cFailure = typeSet(c.failure, `${at}: compensation failure`, false);
    if (cSuccess.size === 0 && (cFailure.size > 0 || c.timeoutMs !== undefined)) {
      throw new SagaConfigError(`${at}: a compensation with failure replies or a timeout needs success replies to wait for`);
    }
    checkMs(c.timeoutMs, `${at}: compensation timeoutMs`);
    [...cSuccess, ...cFailure].forEach((t) => replyTypes.add(t));
    return { ...out, compensation: { command: c, success: cSuccess, failure: cFailure, awaited: cSuccess.size > 0, ...retryOf(c.retry, `${at}: compensation retry`) } };
  });
  const pivots = compiled.flatMap((s, i) => (s.step.pivot ? [i] : []));
  if (pivots.length > 1) throw new SagaConfigError(`saga ${name}: one pivot at most, got ${pivots.length}`);
  const pivot = pivots[0] ?? -1;
  for (const later of compiled.slice(pivot + 1)) {
    // After the pivot recovery is forward only: a compensation there would never run, and
    // declaring one suggests the author expects it to.
    if (pivot >= 0 && later.compensation) throw new SagaConfigError(`saga ${name}, step ${later.step.name}: after the pivot (${compiled[pivot]!.step.name}) a step is never compensated; remove its compensation`);
  }
  return { definition, name, steps: compiled, pivot, replyTypes: [...replyTypes] };
}

function checkCommand(command: unknown, where: string): void {
  if (command === null || typeof command !== 'object') throw new SagaConfigError(`${where} must be { topic, type, data }`);
  const { topic, type, data, key } = command as Record<string, unknown>;
  if (typeof topic !== 'string' || !/^[A-Za-z0-9._-]{1,249}$/.test(topic)) throw new SagaConfigError(`${where}: topic must be a Kafka topic name`);
  if (typeof type !== 'string' || type.length === 0) throw new SagaConfigError(`${where}: type must be an event type of the catalogue`);
  if (typeof data !== 'function') throw new SagaConfigError(`${where}: data must be a function of the saga's data`);
  if (key !== undefined && typeof key !== 'function') throw new SagaConfigError(`${where}: key must be a function`);
}

function typeSet(value: unknown, where: string, required: boolean): Set<string> {
  if (value === undefined && !required) return new Set();
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.some((t) => typeof t !== 'string' || t.length === 0) || (required && list.length === 0)) {
    throw new SagaConfigError(`${where} must be an event type or a list of them`);
  }
  return new Set(list as string[]);
}

function checkMs(value: unknown, where: string): void {
  if (value !== undefined && !(Number.isInteger(value) && (value as number) > 0 && (value as number) <= MAX_TIMER_MS)) {
    throw new SagaConfigError(`${where} must be a positive whole number of milliseconds`);
  }
}

function retryOf(retry: RetryPolicy | undefined, where: string): { attempts: number; delayMs: number } {
  if (retry === undefined) return { attempts: 3, delayMs: 0 };
  if (retry === null || typeof retry !== 'object') throw new SagaConfigError(`${where} must be { attempts, delayMs }`);
  const { attempts = 3, delayMs = 0 } = retry;
  if (!Number.isInteger(attempts) || attempts < 1 || attempts > 1000) throw new SagaConfigError(`${where}: attempts must be a whole number from 1 to 1000`);
  if (delayMs !== 0) checkMs(delayMs, `${where}: delayMs`);
  return { attempts, delayMs };
}
