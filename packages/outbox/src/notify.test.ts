import { outboxTable } from './table';
import { notifyReturningSql, wakeChannel } from './notify';

describe('wakeChannel', () => {
  it('is the table name with _wake, schema included', () => {
    expect(wakeChannel(outboxTable())).toBe('evkit_outbox_wake');
    expect(wakeChannel(outboxTable('app.orders_outbox'))).toBe('app.orders_outbox_wake');
  });

  it('is a hash of the name, within PostgreSQL\'s 63 characters, when the name is too long', () => {
    const long = `${'s'.repeat(40)}.${'t'.repeat(40)}`;
    const channel = wakeChannel(outboxTable(long));
    expect(channel).toMatch(/^evkit_outbox_wake_[0-9a-f]{32}$/);
    expect(channel.length).toBeLessThanOrEqual(63);
    expect(wakeChannel(outboxTable(`${'s'.repeat(40)}.${'u'.repeat(40)}`))).not.toBe(channel);
  });

  it('is sent by the INSERT itself', () => {
    expect(notifyReturningSql(outboxTable('app.outbox'))).toBe(" RETURNING pg_notify('app.outbox_wake', '')");
  });
});
