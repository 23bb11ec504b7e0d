export { createSaga } from './saga';
export type { BeginInput, Saga, SagaOptions } from './saga';
export { defineSaga } from './definition';
export type { CommandContext, RetryPolicy, SagaCommand, SagaCompensation, SagaDefinition, SagaStep } from './definition';
export type { SagaStatus } from './machine';
export { createSagaInspector } from './inspector';
export type { SagaDetails, SagaHistoryEntry, SagaInspector, SagaListFilter, SagaSummary } from './inspector';
export { DEFAULT_SAGA_TABLE, migrateSagas, sagaMigrationSql } from './tables';
export { SagaAlreadyExistsError, SagaConcurrentUpdateError, SagaConfigError, SagaDatabaseError, SagaNotFoundError } from './errors';
