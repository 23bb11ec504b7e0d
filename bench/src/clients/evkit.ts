import { createEvkit, type EventCatalogue, type Evkit, type RetrySpec, type ServiceConsumerOptions } from '@evkit/service';
import { createJsonLogger } from '@evkit/telemetry';
import { EVENT_SOURCE, EVENT_TYPE, ORDER_SCHEMA, type OrderPlaced } from '../fixture';
import { measurement, type Endpoints } from '../harness/protocol';
import { KAFKAJS_LOG_LEVEL } from './kafkajs';
import { Progress } from './progress';
import type { ConsumerClient, ProducerClient } from './transport';

// Full evkit as a service uses it: createEvkit (@evkit/service), `publish` and
// `consumer(...).on`, on the client its `client` option names.

type Events = { [EVENT_TYPE]: OrderPlaced };
const CATALOGUE: EventCatalogue<Events> = { schemas: { [EVENT_TYPE]: ORDER_SCHEMA } };
type BenchEvkit = Evkit<Events, false>;

/** Which Kafka client createEvkit runs on: KafkaJS (the default), or @platformatic/kafka in the Node 22 workers. */
export type BenchClient = 'kafkajs' | 'platformatic';

const baseOptions = (endpoints: Endpoints, client: BenchClient) => ({
  source: EVENT_SOURCE,
  catalogue: CATALOGUE,
  registry: { url: endpoints.registryUrl },
  ...(client === 'platformatic'
    ? { client, kafka: { brokers: endpoints.brokers, clientId: 'bench-evkit' } }
    : { kafka: { brokers: endpoints.brokers, clientId: 'bench-evkit', logLevel: KAFKAJS_LOG_LEVEL } }),
  // Errors only, as every client of the benchmarks (a warning per group join is noise here).
  logger: createJsonLogger('error'),
});

/** One createEvkit per worker: its codec's caches are warm after the warm-up run, as in a running service. */
export function benchEvkit(endpoints: Endpoints, client: BenchClient = 'kafkajs'): BenchEvkit {
  return createEvkit(baseOptions(endpoints, client));
}

/** The same with PostgreSQL: consumers dedupe in `table` (the run's own processed-events table). */
export function benchEvkitWithPostgres(endpoints: Endpoints, tables: { processedEventsTable?: string; outboxTable?: string }, maxConnections?: number): Evkit<Events, true> {
  return createEvkit({
    ...baseOptions(endpoints, 'kafkajs'),
    postgres: { connectionString: endpoints.postgresUrl, ...tables, ...(maxConnections === undefined ? {} : { maxConnections }) },
  });
}

/** What the consumer client needs of either kind of createEvkit. */
interface ConsumingEvkit {
  consumer(options: ServiceConsumerOptions<boolean>): { on(type: typeof EVENT_TYPE, handler: () => Promise<void>): { start(): Promise<void>; stop(): Promise<void> } };
  close(): Promise<void>;
}

/** `publishBatch` per batch, `publish` for the warm-up event. */
export function evkitProducerClient(evkit: BenchEvkit): ProducerClient {
  const publish = (topic: string, key: string, data: OrderPlaced) => evkit.publish(topic, { type: EVENT_TYPE, key, data });
  return {
    // createEvkit connects on the first publish, which `prepare` makes.
    connect: () => Promise.resolve(),
    async prepare(topic) {
      // One untimed event per fresh topic: the schema is registered under the topic's subject
      // (topic-record) and its id cached, as in a warm service. Producer runs never read the topic.
      await publish(topic, 'warm-up', { orderId: 'warm-up', customerId: 'c', amountCents: 1, currency: 'EUR', note: '' });
    },
    // One request per batch, as raw KafkaJS's sendBatch of the same records (100 concurrent
    // single publishes are the concurrency scenarios' pattern, not this one).
    async send(topic, batch) {
      await evkit.publishBatch(topic, batch.map(({ key, data }) => ({ type: EVENT_TYPE, key, data })));
    },
    disconnect: () => evkit.close(),
  };
}

/**
 * A consumer per run (a new group each time) with a no-op handler. `retry: false` leaves the
 * failure routing out; `dedupe` (with PostgreSQL) batches its rows per partition batch.
 */
export function evkitConsumerClient(evkit: ConsumingEvkit, options: { retry: RetrySpec | false; dedupe?: boolean }): ConsumerClient {
  const { retry, dedupe = false } = options;
  return {
    async consume({ topic, groupId, expected }) {
      const progress = new Progress(expected);
      const consumer = evkit
        .consumer({ groupId, topics: [topic], fromBeginning: true, retry, dedupe, ...(dedupe ? { dedupeBatching: true } : {}) })
        .on(EVENT_TYPE, progress.handler);
      await consumer.start();
      const { records, elapsedMs } = await progress.done;
      await consumer.stop();
      return measurement(records, elapsedMs);
    },
    close: () => evkit.close(),
  };
}
