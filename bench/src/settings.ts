/** How big a run is: `quick` is the CI smoke (under a minute), `full` the published numbers. */
export type Mode = 'quick' | 'full';

export interface Settings {
  mode: Mode;
  /** Measured repetitions per variant. */
  repetitions: number;
  /** One unreported warm-up run per variant first. */
  warmUp: boolean;
  /** Records per producer throughput run. */
  producerRecords: number;
  /** Awaited single-record sends per latency run. */
  latencyRecords: number;
  /** Records in the pre-filled topic each consumer run reads. */
  consumerRecords: number;
  /** Records per run of the PostgreSQL dedupe scenario. */
  pgDedupeRecords: number;
  /** Events through producer and consumer in the soak. */
  soakEvents: number;
  /** Outbox: the highest rate offered (events/s; the curve's points above it are offered at it) and duration of one run (s). */
  outboxRate: number;
  outboxSeconds: number;
  /** tinybench: time per task (ms). */
  microTimeMs: number;
  /** Write CPU profiles of the evkit variants (an extra, unmeasured run each). */
  profile: boolean;
}

/** Records per producer request, for every variant. */
export const BATCH_SIZE = 100;
/** Partitions of every topic a run creates. */
export const PARTITIONS = 6;
/** Distinct record keys (aggregate ids), cycled. */
export const KEY_COUNT = 1000;
/** Offered rates of the outbox latency curve (events/s), one scenario each: #16's goal is at 500, the last finds where the relays saturate. */
export const OUTBOX_RATES = [100, 500, 1_000, 2_000] as const;
/** Value sizes of the producer throughput scenarios, bytes on the wire (Confluent header included). */
export const VALUE_SIZES = [1024, 200] as const;

export function settingsFor(mode: Mode): Settings {
  if (mode === 'quick') {
    return {
      mode,
      repetitions: 1,
      warmUp: false,
      producerRecords: 2_000,
      latencyRecords: 100,
      consumerRecords: 3_000,
      pgDedupeRecords: 600,
      soakEvents: 10_000,
      outboxRate: 200,
      outboxSeconds: 1,
      microTimeMs: 50,
      profile: false,
    };
  }
  return {
    mode,
    repetitions: 5,
    warmUp: true,
    producerRecords: 100_000,
    latencyRecords: 2_000,
    consumerRecords: 100_000,
    pgDedupeRecords: 50_000,
    soakEvents: 1_000_000,
    outboxRate: 2_000,
    outboxSeconds: 10,
    microTimeMs: 1_000,
    profile: true,
  };
}
