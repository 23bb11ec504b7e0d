import { boundedErrorText } from '@evkit/errors';
import { isRetriablePostgresError } from '@evkit/idempotency';
import { OutboxDatabaseError } from './errors';

export function databaseError(what: string, cause: unknown): OutboxDatabaseError {
  return new OutboxDatabaseError(`could not ${what}: ${boundedErrorText(cause)}`, { cause, retriable: isRetriablePostgresError(cause) });
}
