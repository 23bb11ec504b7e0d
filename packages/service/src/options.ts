import {
  isBoolean as booleanValue,
  isNonEmptyString as nonEmptyString,
  isObject as object,
  isOneOf as oneOf,
  validateOptions,
  type OptionCheck as Check,
  type OptionRules as Rules,
} from '@evkit/errors';
import { ServiceConfigError } from './errors';

// What createEvkit and its consumer() check at the edge, as tables: each option and what it must
// be. The parts made from them check their own options again, in depth.
const catalogue: Check = (v) =>
  object(v) ?? object((v as { schemas?: unknown }).schemas) === undefined
    ? Object.keys((v as { schemas: object }).schemas).length > 0
      ? undefined
      : 'a catalogue with at least one event type'
    : "a catalogue ({ schemas }, as `evkit codegen` emits it)";
const postgres: Check = (v) => {
  const problem = object(v);
  if (problem) return problem;
  const { pool, connectionString } = v as { pool?: unknown; connectionString?: unknown };
  if ((pool === undefined) === (connectionString === undefined)) return '{ pool } or { connectionString }, one of them';
  return pool === undefined ? nonEmptyString(connectionString) && 'with connectionString a non-empty string' : undefined;
};
const topics: Check = (v) => (Array.isArray(v) && v.length > 0 && v.every((t) => nonEmptyString(t) === undefined) ? undefined : 'a list of one or more topic names');
const retry: Check = (v) => (v === false ? undefined : object(v) && 'false or { attempts, delaysMs, mode }');

const EVKIT_OPTIONS: Rules = {
  source: { required: true, check: nonEmptyString },
  catalogue: { required: true, check: catalogue },
  registry: { required: true, check: object },
  kafka: { check: object },
  transports: { check: object },
  postgres: { check: postgres },
  subjectNameStrategy: { check: oneOf('topic', 'record', 'topic-record') },
  autoRegister: { check: booleanValue },
  logger: { check: object },
};

const CONSUMER_OPTIONS: Rules = {
  groupId: { required: true, check: nonEmptyString },
  topics: { required: true, check: topics },
  retry: { check: retry },
  dedupe: { check: booleanValue },
  group: { check: object },
};

const validate = (what: string, options: unknown, rules: Rules) => validateOptions(what, options, rules, (problem) => new ServiceConfigError(problem));

export function validateEvkitOptions(options: unknown): void {
  validate('createEvkit', options, EVKIT_OPTIONS);
  const { kafka, transports } = options as { kafka?: unknown; transports?: unknown };
  if ((kafka === undefined) === (transports === undefined)) throw new ServiceConfigError('createEvkit: give kafka (KafkaJS connection options) or transports, one of them');
}

export function validateConsumerSpec(options: unknown, hasPostgres: boolean): void {
  validate('consumer', options, CONSUMER_OPTIONS);
  if ((options as { dedupe?: boolean }).dedupe === true && !hasPostgres) throw new ServiceConfigError('consumer: dedupe needs the postgres option of createEvkit');
}
