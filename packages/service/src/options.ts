import {
  isBoolean as booleanValue,
  isNonEmptyString as nonEmptyString,
  isObject as object,
  isOneOf as oneOf,
  validateOptions,
  type OptionCheck as Check,
  type OptionRules as Rules,
} from '@evkit/errors';
import { KAFKA_CLIENTS } from '@evkit/transport';
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
  if (pool === undefined && nonEmptyString(connectionString)) return 'with connectionString a non-empty string';
  const tables = v as { processedEventsTable?: unknown; outboxTable?: unknown };
  for (const name of ['processedEventsTable', 'outboxTable'] as const) {
    if (tables[name] !== undefined && nonEmptyString(tables[name])) return `with ${name} a non-empty string`;
  }
  return undefined;
};
const topics: Check = (v) => (Array.isArray(v) && v.length > 0 && v.every((t) => nonEmptyString(t) === undefined) ? undefined : 'a list of one or more topic names');
const retry: Check = (v) => (v === false ? undefined : object(v) && 'false or { attempts, delaysMs, mode, jitter }');
const dedupe: Check = (v) =>
  booleanValue(v) === undefined || typeof (v as { store?: unknown } | null)?.store === 'function' ? undefined : 'a boolean or { store }, store a function';

const EVKIT_OPTIONS: Rules = {
  source: { required: true, check: nonEmptyString },
  catalogue: { required: true, check: catalogue },
  registry: { required: true, check: object },
  client: { check: oneOf(...KAFKA_CLIENTS) },
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
  dedupe: { check: dedupe },
  group: { check: object },
};

const validate = (what: string, options: unknown, rules: Rules) => validateOptions(what, options, rules, (problem) => new ServiceConfigError(problem));

export function validateEvkitOptions(options: unknown): void {
  validate('createEvkit', options, EVKIT_OPTIONS);
  const { kafka, transports, client } = options as { kafka?: unknown; transports?: unknown; client?: unknown };
  if ((kafka === undefined) === (transports === undefined)) throw new ServiceConfigError('createEvkit: give kafka (Kafka connection options) or transports, one of them');
  if (client !== undefined && transports !== undefined) throw new ServiceConfigError('createEvkit: client chooses the transports made from kafka; leave it out with transports');
}

export function validateConsumerSpec(options: unknown, hasPostgres: boolean): void {
  validate('consumer', options, CONSUMER_OPTIONS);
  const wanted = (options as { dedupe?: unknown }).dedupe;
  if (wanted !== undefined && wanted !== false && !hasPostgres) throw new ServiceConfigError('consumer: dedupe needs the postgres option of createEvkit');
}
