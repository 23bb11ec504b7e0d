import { createHash } from 'node:crypto';
import type { Notification, Pool, PoolClient } from 'pg';
import { databaseError } from './database';
import type { OutboxTable } from './table';

// PostgreSQL's identifier limit (NAMEDATALEN - 1); pg_notify refuses a longer channel name.
const MAX_CHANNEL_LENGTH = 63;

/**
 * The LISTEN/NOTIFY channel of an outbox table: `<table>_wake` (e.g. `evkit_outbox_wake`,
 * `app.outbox_wake`), or a hash of the table name when that is longer than PostgreSQL allows.
 * The writer and the relay derive it from the same `table` option, so give both the same one.
 * Only `[a-z0-9_.]` can occur: safe inside a quoted identifier and a string literal.
 */
export function wakeChannel(table: OutboxTable): string {
  const readable = `${table.name}_wake`;
  if (readable.length <= MAX_CHANNEL_LENGTH) return readable;
  return `evkit_outbox_wake_${createHash('sha256').update(table.name).digest('hex').slice(0, 32)}`;
}

/**
 * `RETURNING pg_notify(...)` for the writer's INSERT: the wake-up is sent in the same statement
 * (no extra round trip) and, like any NOTIFY, delivered only when the transaction commits. Several
 * writes in one transaction send one notification (PostgreSQL folds identical ones).
 */
export function notifyReturningSql(table: OutboxTable): string {
  return ` RETURNING pg_notify('${wakeChannel(table)}', '')`;
}

export interface WakeListenerOptions {
  pool: Pool;
  channel: string;
  /** First delay before connecting again after a failure or a lost connection; doubles up to maxRetryMs. */
  retryMs: number;
  maxRetryMs?: number;
  /** A notification came, or the listener (re)connected: anything committed meanwhile is unseen. */
  onWake: () => void;
  /** A failed LISTEN or a lost listening connection; the listener tries again by itself. */
  onError: (error: unknown) => void;
}

export interface WakeListener {
  /** Ends the listening connection (destroyed, not pooled) and any retry. */
  stop(): Promise<void>;
}

/**
 * One pool connection held for `LISTEN` while the relay runs. On a lost connection (an `error` or
 * `end` event) it reports, waits, connects again and listens again, then wakes the relay once:
 * a notification sent while nobody listened is gone, so one batch catches up on it.
 */
export function startWakeListener(options: WakeListenerOptions): WakeListener {
  const { pool, channel, retryMs, maxRetryMs = 30_000, onWake, onError } = options;
  let stopped = false;
  let client: PoolClient | undefined;
  let timer: NodeJS.Timeout | undefined;
  let delay = retryMs;

  const onNotification = (message: Notification) => {
    if (message.channel === channel) onWake();
  };

  const drop = (current: PoolClient, error?: Error) => {
    current.removeListener('notification', onNotification);
    current.removeListener('error', onLost);
    current.removeListener('end', onEnd);
    // An 'error' after this must not crash the process: the connection is being thrown away.
    current.on('error', () => {});
    current.release(error ?? true);
  };

  const retryLater = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, delay);
    delay = Math.min(delay * 2, Math.max(maxRetryMs, retryMs));
  };

  function onLost(error: Error) {
    const current = client;
    if (current === undefined) return;
    client = undefined;
    drop(current, error);
    if (stopped) return;
    onError(databaseError(`keep listening on ${channel}`, error));
    retryLater();
  }

  function onEnd() {
    onLost(new Error('the listening connection ended'));
  }

  async function connect(): Promise<void> {
    if (stopped) return;
    let current: PoolClient;
    try {
      current = await pool.connect();
    } catch (error) {
      if (stopped) return;
      onError(databaseError(`connect to listen on ${channel}`, error));
      retryLater();
      return;
    }
    if (stopped) {
      current.release(true);
      return;
    }
    current.on('notification', onNotification);
    current.on('error', onLost);
    current.on('end', onEnd);
    client = current;
    try {
      await current.query(`LISTEN "${channel}"`);
    } catch (error) {
      if (client === current) {
        client = undefined;
        drop(current, error instanceof Error ? error : new Error(String(error)));
        if (stopped) return;
        onError(databaseError(`listen on ${channel}`, error));
        retryLater();
      }
      return;
    }
    if (client !== current || stopped) return;
    delay = retryMs;
    onWake();
  }

  void connect();

  return {
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      // A connect still under way sees `stopped` and lets its connection go.
      const current = client;
      client = undefined;
      if (current !== undefined) drop(current);
      return Promise.resolve();
    },
  };
}
