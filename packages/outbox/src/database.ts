import { boundedErrorText } from '@evkit/errors';
import { OutboxDatabaseError } from './errors';

// SQLSTATE classes where the same statement may succeed later: connection exceptions (08),
// transaction rollback, i.e. serialization failure and deadlock (40), insufficient resources
// (53), operator intervention such as an admin shutdown (57).
const TRANSIENT_CLASSES = new Set(['08', '40', '53', '57']);

/** Whether a pg error is worth retrying. An error the server did not send (a dropped socket) is. */
export function isTransient(error: unknown): boolean {
  const { severity, code } = error as { severity?: unknown; code?: unknown };
  if (typeof severity !== 'string' || typeof code !== 'string') return true;
  return TRANSIENT_CLASSES.has(code.slice(0, 2));
}

export function databaseError(what: string, cause: unknown): OutboxDatabaseError {
  return new OutboxDatabaseError(`could not ${what}: ${boundedErrorText(cause)}`, { cause, retriable: isTransient(cause) });
}
