export type { RunOnceOptions } from './abandon';
export type { BatchingIdempotencyStore, IdempotencyBatch, IdempotencyStore, RunOnceResult } from './store';
export { createPostgresIdempotencyStore, DEFAULT_TABLE } from './postgres-store';
export type {
  PostgresIdempotencyStore,
  PostgresIdempotencyStoreConnectionOptions,
  PostgresIdempotencyStoreOptions,
  PostgresIdempotencyStorePoolOptions,
} from './postgres-store';
export { createMemoryIdempotencyStore, DEFAULT_MEMORY_STORE_MAX_ENTRIES } from './memory-store';
export type { MemoryIdempotencyStore, MemoryIdempotencyStoreOptions } from './memory-store';
export { isRetriablePostgresError } from './postgres-errors';
export { advisoryXactLockSql, MAX_IDENTIFIER_LENGTH, parsePostgresTableName } from './postgres-sql';
export type { PostgresTableName } from './postgres-sql';
export { startRetention } from './retention';
export type { Retention, RetentionOptions } from './retention';
export {
  IdempotencyAttemptAbandonedError,
  IdempotencyClaimTimeoutError,
  IdempotencyConfigError,
  IdempotencyStoreClosedError,
  IdempotencyStoreError,
  IdempotencyTransactionAbortedError,
  IdempotencyTransactionEndedError,
} from './errors';
