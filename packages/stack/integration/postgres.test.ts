import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { createLocalStack } from '@evkit/stack';

describe('PostgreSQL for CDC', () => {
  const { endpoints } = createLocalStack();
  const client = new Client({ connectionString: endpoints.postgresUrl });
  beforeAll(() => client.connect());
  afterAll(() => client.end());

  it('runs with logical WAL and a user allowed to replicate', async () => {
    expect((await client.query('show wal_level')).rows[0]).toEqual({ wal_level: 'logical' });
    const role = await client.query('select rolreplication from pg_roles where rolname = current_user');
    expect(role.rows[0]).toEqual({ rolreplication: true });
  });

  it('creates and drops a pgoutput replication slot (what Debezium does)', async () => {
    const slot = `evkit_it_${randomUUID().replaceAll('-', '')}`.slice(0, 63);
    try {
      await client.query(`select pg_create_logical_replication_slot($1, 'pgoutput')`, [slot]);
      const found = await client.query('select plugin from pg_replication_slots where slot_name = $1', [slot]);
      expect(found.rows).toEqual([{ plugin: 'pgoutput' }]);
    } finally {
      // An unread slot would keep WAL forever.
      await client.query('select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = $1', [slot]);
    }
  });

  it('refuses a wrong password', async () => {
    const url = new URL(endpoints.postgresUrl);
    url.password = 'wrong';
    const intruder = new Client({ connectionString: url.toString() });
    await expect(intruder.connect()).rejects.toThrow(/password authentication failed/);
  });
});
