import { CodecConfigError } from './errors';

/**
 * How a subject is named, as in Confluent's serializers: TopicNameStrategy (`<topic>-value`: one
 * schema lineage per topic), RecordNameStrategy (the record's full name: one lineage per event
 * type, across topics) and TopicRecordNameStrategy (`<topic>-<full name>`: one lineage per event
 * type and topic, the default).
 */
export type SubjectNameStrategy = 'topic' | 'record' | 'topic-record' | ((topic: string, recordName: string) => string);

export const SUBJECT_NAME_STRATEGIES = ['topic', 'record', 'topic-record'] as const;

/**
 * The codec's and the CLI's default. A topic usually carries several event types (OrderPlaced and
 * OrderCancelled on `orders`); under `topic` they would share one subject, and the second type
 * would be refused as incompatible with the first.
 */
export const DEFAULT_SUBJECT_NAME_STRATEGY = 'topic-record' satisfies (typeof SUBJECT_NAME_STRATEGIES)[number];

export function subjectNamer(strategy: SubjectNameStrategy): (topic: string, recordName: string) => string {
  switch (strategy) {
    case 'topic':
      return (topic) => `${topic}-value`;
    case 'record':
      return (_topic, recordName) => named(strategy, recordName);
    case 'topic-record':
      return (topic, recordName) => `${topic}-${named(strategy, recordName)}`;
    default:
      if (typeof strategy === 'function') return strategy;
      throw new CodecConfigError(
        `subjectNameStrategy must be one of ${SUBJECT_NAME_STRATEGIES.join(', ')} or a function, got ${JSON.stringify(strategy)}`,
      );
  }
}

/** Only named types (record, enum, fixed) have a name to build the subject from; else the subject would be `orders-`. */
function named(strategy: string, recordName: string): string {
  if (recordName.length === 0) {
    throw new CodecConfigError(
      `the ${strategy} subject naming strategy needs a named schema (a record, enum or fixed); name it, or set subjectNameStrategy: 'topic'`,
    );
  }
  return recordName;
}
