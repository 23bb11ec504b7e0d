import { CodecConfigError } from './errors';

/**
 * How a subject is named, as in Confluent's serializers: TopicNameStrategy (`<topic>-value`,
 * the default: one schema lineage per topic), RecordNameStrategy (the record's full name: one
 * lineage per event type, across topics) and TopicRecordNameStrategy (`<topic>-<full name>`).
 */
export type SubjectNameStrategy = 'topic' | 'record' | 'topic-record' | ((topic: string, recordName: string) => string);

export const SUBJECT_NAME_STRATEGIES = ['topic', 'record', 'topic-record'] as const;

export function subjectNamer(strategy: SubjectNameStrategy): (topic: string, recordName: string) => string {
  switch (strategy) {
    case 'topic':
      return (topic) => `${topic}-value`;
    case 'record':
      return (_topic, recordName) => recordName;
    case 'topic-record':
      return (topic, recordName) => `${topic}-${recordName}`;
    default:
      if (typeof strategy === 'function') return strategy;
      throw new CodecConfigError(
        `subjectNameStrategy must be one of ${SUBJECT_NAME_STRATEGIES.join(', ')} or a function, got ${JSON.stringify(strategy)}`,
      );
  }
}
