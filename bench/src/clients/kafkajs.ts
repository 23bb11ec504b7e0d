import { Kafka, logLevel } from 'kafkajs';
import type { Endpoints } from '../harness/protocol';

/** Every KafkaJS client of the benchmarks logs errors only (evkit's warns once per publisher). */
export const KAFKAJS_LOG_LEVEL = logLevel.ERROR;

export function kafkaJsClient(endpoints: Endpoints, clientId: string): Kafka {
  return new Kafka({ brokers: endpoints.brokers, clientId, logLevel: KAFKAJS_LOG_LEVEL });
}

export const subjectOf = (topic: string): string => `${topic}-value`;
