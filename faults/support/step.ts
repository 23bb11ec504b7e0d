import type { Pool } from 'pg';
import { createEvkit, type Evkit, type EventCatalogue } from '@evkit/service';
import type { Logger } from '@evkit/telemetry';
import { TRANSPORT } from './env';

// The one event of the suite, and the createEvkit every member and producer is: on the Kafka
// client `--transport` picked, the one place the suite names connection options, in each
// client's own terms.

export const STEP_TYPE = 'dev.evkit.faults.step';
/** Every event carries the run, its key, its per-key sequence number and a unique id (= the event id). */
export const STEP_SCHEMA = {
  type: 'record',
  name: 'FaultStep',
  namespace: 'dev.evkit.faults',
  fields: [
    { name: 'run', type: 'string' },
    { name: 'key', type: 'string' },
    { name: 'seq', type: 'int' },
    { name: 'uid', type: 'string' },
  ],
} as const;

export interface Step {
  run: string;
  key: string;
  seq: number;
  uid: string;
}

export interface StepEvents {
  [STEP_TYPE]: Step;
}

/** The step event's catalogue, in the shape `evkit codegen` emits. */
export const STEP_CATALOGUE: EventCatalogue<StepEvents> = { schemas: { [STEP_TYPE]: STEP_SCHEMA } };

export interface StepEvkitSetup {
  brokers: string[];
  clientId: string;
  registryUrl: string;
  /** The codec's registry request timeout. Default 5 s. */
  registryTimeoutMs?: number;
  logger: Logger;
  /** The producer's request timeout (both clients' default: 30 s). */
  requestTimeout?: number;
  /** Send retries, as KafkaJS takes them; the client's default otherwise (KafkaJS: about two minutes). */
  retry?: { retries: number; initialRetryTime: number; maxRetryTime: number };
}

/** What the load and the scenarios publish through. */
export type StepProducer = Pick<Evkit<StepEvents, false>, 'publish' | 'close'>;

export function stepEvkit(setup: StepEvkitSetup): Evkit<StepEvents, false>;
export function stepEvkit(setup: StepEvkitSetup, postgres: { pool: Pool; processedEventsTable: string }): Evkit<StepEvents, true>;
export function stepEvkit(setup: StepEvkitSetup, postgres?: { pool: Pool; processedEventsTable: string }): Evkit<StepEvents, boolean> {
  const common = {
    brokers: setup.brokers,
    clientId: setup.clientId,
    ...(setup.requestTimeout === undefined ? {} : { requestTimeout: setup.requestTimeout }),
  };
  // @platformatic/kafka retries a request `retries` times, `retryDelay` apart: the nearest to KafkaJS's back-off.
  const { retry } = setup;
  const kafka =
    TRANSPORT === 'platformatic'
      ? { ...common, ...(retry === undefined ? {} : { retries: retry.retries, retryDelay: retry.initialRetryTime }) }
      : { ...common, ...(retry === undefined ? {} : { retry }) };
  return createEvkit({
    source: '/evkit-faults',
    catalogue: STEP_CATALOGUE,
    client: TRANSPORT,
    kafka,
    registry: { url: setup.registryUrl, timeoutMs: setup.registryTimeoutMs ?? 5000 },
    logger: setup.logger,
    ...(postgres === undefined ? {} : { postgres }),
  });
}
