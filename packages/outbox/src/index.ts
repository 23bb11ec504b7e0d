export { migrateOutbox, outboxMigrationSql, DEFAULT_OUTBOX_TABLE } from './table';
export type { Queryable } from './table';
export { inTransaction } from './transaction';
export { createOutboxWriter } from './writer';
export type { OutboxEventSpec, OutboxWriteInput, OutboxWriter, OutboxWriterOptions, OutboxWritten } from './writer';
export { createPollingRelay } from './relay';
export type { PollingRelay, PollingRelayOptions } from './relay';
export { createOutboxCleaner, createOutboxLagMonitor, startOutboxRetention } from './housekeeping';
export type {
  OutboxCleaner,
  OutboxCleanerOptions,
  OutboxLag,
  OutboxLagMonitor,
  OutboxLagOptions,
  OutboxRelayKind,
  OutboxRetentionOptions,
} from './housekeeping';
export { OutboxConfigError, OutboxDatabaseError, OutboxEventError, OutboxTransactionError, OutboxWriteError } from './errors';
