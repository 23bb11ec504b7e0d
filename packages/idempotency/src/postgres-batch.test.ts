import { EventEmitter } from 'node:events';
import type { PoolClient } from 'pg';
import { settled } from './postgres-batch';

// pg settles a failed query before it reads the ReadyForQuery that updates the transaction
// status; `settled` waits for that message when the client has not read it yet.
describe('settled', () => {
  const clientWith = (readyForQuery: boolean) => {
    const connection = new EventEmitter();
    return { client: { readyForQuery, connection } as unknown as PoolClient, connection };
  };

  it('resolves at once when the client has read everything', async () => {
    await expect(settled(clientWith(true).client)).resolves.toBeUndefined();
  });

  it('waits for the ReadyForQuery the client is still expecting', async () => {
    const { client, connection } = clientWith(false);
    let done = false;
    const waiting = settled(client).then(() => (done = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(done).toBe(false);
    connection.emit('readyForQuery');
    await waiting;
    expect(done).toBe(true);
  });
});
