import { isRetriablePostgresError } from './postgres-errors';

/** An error as pg reports one the server sent: a SQLSTATE code and a severity. */
const server = (code: string, message = `server error ${code}`) => Object.assign(new Error(message), { severity: 'ERROR', code });
const socket = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:15432`), { code, errno: -1, syscall: 'connect' });

describe('isRetriablePostgresError', () => {
  it.each([
    ['connection_exception', server('08000')],
    ['connection_does_not_exist', server('08003')],
    ['connection_failure', server('08006')],
    ['sqlclient_unable_to_establish_sqlconnection', server('08001')],
    ['serialization_failure', server('40001')],
    ['deadlock_detected', server('40P01')],
    ['lock_not_available (lock_timeout)', server('55P03')],
    ['query_canceled (statement_timeout)', server('57014')],
    ['admin_shutdown', server('57P01')],
    ['crash_shutdown', server('57P02')],
    ['cannot_connect_now', server('57P03')],
    ['too_many_connections', server('53300')],
    ['insufficient_resources', server('53000')],
    ['disk_full', server('53100')],
    ['out_of_memory', server('53200')],
    ['ECONNREFUSED', socket('ECONNREFUSED')],
    ['ECONNRESET', socket('ECONNRESET')],
    ['ETIMEDOUT', socket('ETIMEDOUT')],
    ['EPIPE', socket('EPIPE')],
    ['pg: Connection terminated unexpectedly', new Error('Connection terminated unexpectedly')],
    ['pg: Connection terminated', new Error('Connection terminated')],
    ['pg: Connection terminated due to connection timeout', new Error('Connection terminated due to connection timeout')],
    ['pg: a query on a client whose connection dropped', new Error('Client has encountered a connection error and is not queryable')],
    ['pg-pool: connect timeout', new Error('timeout exceeded when trying to connect')],
    ['AggregateError of refused connects (IPv6, then IPv4)', new AggregateError([socket('ECONNREFUSED'), socket('ECONNREFUSED')], '')],
  ])('retriable: %s', (_, error) => {
    expect(isRetriablePostgresError(error)).toBe(true);
  });

  it.each([
    ['syntax_error', server('42601')],
    ['undefined_table', server('42P01')],
    ['insufficient_privilege', server('42501')],
    ['unique_violation', server('23505')],
    ['check_violation', server('23514')],
    ['invalid_text_representation', server('22P02')],
    ['read_only_sql_transaction', server('25006')],
    ['transaction_integrity_constraint_violation (class 40, not listed)', server('40002')],
    ['database_dropped (class 57, not listed)', server('57P04')],
    ['operator_intervention (class 57, not listed)', server('57000')],
    ['invalid_password', server('28P01')],
    ['object_not_in_prerequisite_state (class 55, not listed)', server('55000')],
    ['another socket error', socket('ENOTFOUND')],
    ['a plain Error', new Error('boom')],
    ['a message that merely mentions the text', new Error('handler said: Connection terminated')],
    ['a TypeError', new TypeError('cannot read properties of undefined')],
    ['an AggregateError of permanent failures', new AggregateError([server('42501')], '')],
    ['a string', 'Connection terminated'],
    ['undefined', undefined],
    ['null', null],
  ])('not retriable: %s', (_, error) => {
    expect(isRetriablePostgresError(error)).toBe(false);
  });
});
