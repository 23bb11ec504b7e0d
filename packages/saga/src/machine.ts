import type { CloudEvent } from '@evkit/envelope';
import type { CompiledSaga, CompiledStep } from './definition';

// The saga's state machine, pure: a state and an input give the next state, the commands to
// write and the one timer to keep. The orchestrator applies a transition in one transaction
// (state row, outbox rows, timer row, history), so what is decided here commits whole or not at all.

export type SagaStatus = 'running' | 'compensating' | 'completed' | 'compensated' | 'stuck';
export const FINISHED: readonly SagaStatus[] = ['completed', 'compensated', 'stuck'];

export interface SagaState<D> {
  status: SagaStatus;
  /** The step whose reply is awaited (running) or whose compensation is (compensating). */
  step: number;
  /** Sends of the current command so far, 1-based. */
  attempt: number;
  /** Ids of the commands sent for the current step and phase: a reply naming another cause is not theirs. */
  awaiting: string[];
  data: D;
}

export type SagaInput =
  | { kind: 'reply'; event: CloudEvent<unknown> }
  /** The reply deadline passed. */
  | { kind: 'timeout' }
  /** A delayed resend is due. */
  | { kind: 'resend' };

export interface Send {
  step: number;
  kind: 'command' | 'compensation';
  attempt: number;
  /** Its id joins `awaiting`: the reply to it moves the saga on. */
  awaited: boolean;
}

export interface HistoryEntry {
  kind: string;
  step?: number;
  detail?: string;
}

export interface Transition<D> {
  outcome: 'applied' | 'ignored';
  state: SagaState<D>;
  sends: Send[];
  /** The saga's one pending timer after this transition; none clears it. */
  timer?: { kind: 'timeout' | 'resend'; inMs: number };
  history: HistoryEntry[];
}

export function begin<M, D>(saga: CompiledSaga<M, D>, data: D): Transition<D> {
  const state: SagaState<D> = { status: 'running', step: 0, attempt: 1, awaiting: [], data };
  return withHistory(sendStep(saga, state), [{ kind: 'started' }]);
}

export function next<M, D>(saga: CompiledSaga<M, D>, state: SagaState<D>, input: SagaInput): Transition<D> {
  if (FINISHED.includes(state.status)) return ignored(state, `the saga is ${state.status}`);
  const step = saga.steps[state.step]!;
  const compensating = state.status === 'compensating';
  switch (input.kind) {
    case 'reply': {
      const { event } = input;
      const success = compensating ? step.compensation!.success : step.success;
      const failure = compensating ? step.compensation!.failure : step.failure;
      const awaited = success.has(event.type) || failure.has(event.type);
      if (!awaited) return ignored(state, `${step.step.name} ${compensating ? 'compensation ' : ''}does not wait for ${event.type}`);
      // A reply names the command it answers (causation); one naming another command answers an
      // earlier step or phase of this saga and is late.
      if (event.causationid !== undefined && state.awaiting.length > 0 && !state.awaiting.includes(event.causationid)) {
        return ignored(state, `${event.type} answers ${event.causationid}, not a command ${step.step.name} is waiting on`);
      }
      if (failure.has(event.type)) return failed(saga, state, false, `${event.type} (${event.id})`);
      if (compensating) return withHistory(compensateFrom(saga, { ...state }, state.step - 1), [{ kind: 'compensated-step', step: state.step, detail: `${event.type} (${event.id})` }]);
      const data = step.step.onSuccess ? step.step.onSuccess(state.data, event as CloudEvent<never>) : state.data;
      return withHistory(advance(saga, { ...state, data }), [{ kind: 'step-succeeded', step: state.step, detail: `${event.type} (${event.id})` }]);
    }
    case 'timeout':
      return failed(saga, state, true, 'no reply in time');
    case 'resend':
      return resend(saga, state);
  }
}

function advance<M, D>(saga: CompiledSaga<M, D>, state: SagaState<D>): Transition<D> {
  const step = state.step + 1;
  if (step === saga.steps.length) {
    return { outcome: 'applied', state: { ...state, status: 'completed', attempt: 0, awaiting: [] }, sends: [], history: [{ kind: 'completed' }] };
  }
  return sendStep(saga, { ...state, status: 'running', step, attempt: 1, awaiting: [] });
}

function sendStep<M, D>(saga: CompiledSaga<M, D>, state: SagaState<D>): Transition<D> {
  return sendAwaited(state, 'command', saga.steps[state.step]!.step.timeoutMs);
}

/** Sends the current step's command or compensation (after `before`) and waits for its reply, with a timer when it has a timeout. */
function sendAwaited<D>(state: SagaState<D>, kind: Send['kind'], timeoutMs: number | undefined, before: Send[] = []): Transition<D> {
  return {
    outcome: 'applied',
    state,
    sends: [...before, { step: state.step, kind, attempt: state.attempt, awaited: true }],
    ...(timeoutMs === undefined ? {} : { timer: { kind: 'timeout' as const, inMs: timeoutMs } }),
    history: [],
  };
}

/** A failure reply or a timeout of what the saga waits for. */
function failed<M, D>(saga: CompiledSaga<M, D>, state: SagaState<D>, timedOut: boolean, why: string): Transition<D> {
  const step = saga.steps[state.step]!;
  if (state.status === 'compensating') {
    const { attempts, delayMs } = step.compensation!;
    return retryOrStick(saga, state, attempts, delayMs, { kind: timedOut ? 'compensation-timed-out' : 'compensation-failed', step: state.step, detail: why });
  }
  const entry = { kind: timedOut ? 'step-timed-out' : 'step-failed', step: state.step, detail: why };
  if (saga.pivot >= 0 && state.step > saga.pivot) return retryOrStick(saga, state, step.attempts, step.delayMs, entry);
  // Backward recovery. A failure reply means the participant did nothing; after a timeout it may
  // have acted (or act late), so the step is compensated too: compensations are order-tolerant.
  return withHistory(compensateFrom(saga, state, timedOut ? state.step : state.step - 1), [entry]);
}

function retryOrStick<M, D>(saga: CompiledSaga<M, D>, state: SagaState<D>, attempts: number, delayMs: number, entry: HistoryEntry): Transition<D> {
  if (state.attempt >= attempts) {
    const stuck = { kind: 'stuck', step: state.step, detail: `${attempts} attempt(s) failed; needs a person` };
    return { outcome: 'applied', state: { ...state, status: 'stuck' }, sends: [], history: [entry, stuck] };
  }
  const again = { ...state, attempt: state.attempt + 1 };
  if (delayMs > 0) return { outcome: 'applied', state: again, sends: [], timer: { kind: 'resend', inMs: delayMs }, history: [entry] };
  return withHistory(resend(saga, again), [entry]);
}

function resend<M, D>(saga: CompiledSaga<M, D>, state: SagaState<D>): Transition<D> {
  if (state.status === 'running') return sendStep(saga, state);
  return sendAwaited(state, 'compensation', saga.steps[state.step]!.compensation!.command.timeoutMs);
}

/**
 * Compensations of steps `from` down to 0, in reverse order: those that need no reply are all
 * written now (the relay keeps their order, one key), up to the first that waits for its reply.
 */
function compensateFrom<M, D>(saga: CompiledSaga<M, D>, state: SagaState<D>, from: number): Transition<D> {
  const sends: Send[] = [];
  for (let index = from; index >= 0; index -= 1) {
    const compensation: CompiledStep<M, D>['compensation'] = saga.steps[index]!.compensation;
    if (compensation === undefined) continue;
    if (compensation.awaited) {
      return sendAwaited({ ...state, status: 'compensating', step: index, attempt: 1, awaiting: [] }, 'compensation', compensation.command.timeoutMs, sends);
    }
    sends.push({ step: index, kind: 'compensation', attempt: 1, awaited: false });
  }
  return { outcome: 'applied', state: { ...state, status: 'compensated', attempt: 0, awaiting: [] }, sends, history: [{ kind: 'compensated' }] };
}

function ignored<D>(state: SagaState<D>, why: string): Transition<D> {
  return { outcome: 'ignored', state, sends: [], history: [{ kind: 'ignored', detail: why }] };
}

function withHistory<D>(transition: Transition<D>, before: HistoryEntry[]): Transition<D> {
  return { ...transition, history: [...before, ...transition.history] };
}
