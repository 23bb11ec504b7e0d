// Which PostgreSQL failures are worth trying again, for every evkit package that talks to
// PostgreSQL (this store, @evkit/outbox). It reads only `code` and `message`, so it needs no
// driver at runtime and works on errors from any copy of pg.

// Whole SQLSTATE classes: connection exceptions (08) and insufficient resources (53: disk full,
// out of memory, too many connections) clear up on their own or on another connection.
const RETRIABLE_CLASSES = new Set(['08', '53']);

// Single SQLSTATEs of other classes where the same statement may succeed on a later attempt.
const RETRIABLE_SQLSTATES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available (lock_timeout, NOWAIT)
  '57014', // query_canceled (statement_timeout, pg_cancel_backend)
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, in recovery)
]);

// Node's socket errors, from the connect or a dropped connection.
const RETRIABLE_SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE']);

// pg's own errors carry no code. 'Connection terminated' (unexpectedly, or due to connection
// timeout) is a dropped connection; 'not queryable' is the same drop seen by a later query on
// that client; pg-pool's connect timeout is the server not answering in time (the store's
// `connectTimeoutMs`, documented as retriable).
const RETRIABLE_MESSAGES = [/^Connection terminated\b/, /^Client has encountered a connection error and is not queryable$/, /^timeout exceeded when trying to connect$/];

/**
 * Whether a failed PostgreSQL call may succeed if tried again: a lost or refused connection, a
 * serialization failure or deadlock, a lock or statement timeout, a server shutting down or
 * starting, or resources running out. Anything else (a syntax error, a missing table, a
 * permission, a constraint) is not: the same statement fails the same way.
 */
export function isRetriablePostgresError(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false;
  // Node's connect to a name with several addresses fails with an AggregateError of each try.
  if (error instanceof AggregateError && error.errors.some(isRetriablePostgresError)) return true;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string') {
    if (RETRIABLE_SOCKET_CODES.has(code)) return true;
    if (/^[0-9A-Z]{5}$/.test(code)) return RETRIABLE_SQLSTATES.has(code) || RETRIABLE_CLASSES.has(code.slice(0, 2));
  }
  return typeof message === 'string' && RETRIABLE_MESSAGES.some((pattern) => pattern.test(message));
}
