import {
  isNonEmptyString as nonEmptyString,
  isObject as object,
  isWholeNumber,
  optionProblem,
  validateOptions,
  type OptionCheck as Check,
  type OptionRules as Rules,
} from '@evkit/errors';
import { SagaConfigError } from './errors';

// What createSaga and createSagaInspector check at the edge, as tables: each option and what it
// must be. The definition is checked by compileSaga, the parts made from evkit check their own.
const topics: Check = (v) =>
  Array.isArray(v) && v.length > 0 && v.every((t) => typeof t === 'string' && /^[A-Za-z0-9._-]{1,249}$/.test(t)) ? undefined : 'a list of one or more Kafka topic names';
const wholeMs = (max: number): Check => isWholeNumber(1, max);
const evkit: Check = (v) =>
  object(v) ?? (['write', 'inTransaction', 'consumer'].every((m) => typeof (v as Record<string, unknown>)[m] === 'function') ? undefined : 'the value of createEvkit (with postgres)');
const timers: Check = (v) => object(v) ?? optionProblem('timers', v, TIMER_OPTIONS);

const SAGA_OPTIONS: Rules = {
  evkit: { required: true, check: evkit },
  definition: { required: true, check: object },
  replyTopics: { required: true, check: topics },
  groupId: { check: nonEmptyString },
  table: { check: nonEmptyString },
  timers: { check: timers },
  consumer: { check: object },
  logger: { check: object },
};

const TIMER_OPTIONS: Rules = {
  intervalMs: { check: wholeMs(2 ** 31 - 1) },
  batchSize: { check: wholeMs(10_000) },
};

const INSPECTOR_OPTIONS: Rules = {
  pool: { check: object },
  connectionString: { check: nonEmptyString },
  table: { check: nonEmptyString },
};

const validate = (what: string, options: unknown, rules: Rules) => validateOptions(what, options, rules, (problem) => new SagaConfigError(problem));

export function validateSagaOptions(options: unknown): void {
  validate('createSaga', options, SAGA_OPTIONS);
  const { consumer } = options as { consumer?: Record<string, unknown> };
  for (const owned of ['groupId', 'topics', 'dedupe']) {
    if (consumer?.[owned] !== undefined) throw new SagaConfigError(`createSaga: consumer.${owned} is the saga's own (use groupId and replyTopics; dedupe is always on)`);
  }
}

export function validateInspectorOptions(options: unknown): void {
  validate('createSagaInspector', options, INSPECTOR_OPTIONS);
  const { pool, connectionString } = options as { pool?: unknown; connectionString?: unknown };
  if ((pool === undefined) === (connectionString === undefined)) throw new SagaConfigError('createSagaInspector: give pool or connectionString, one of them');
}
