import type { IdempotencyStore } from '@evkit/idempotency';
import { HandlerTimeoutError } from './errors';
import type { HandlerContext, Middleware } from './handler';

/**
 * Side effects at most once per event id and consumer group. The handler runs inside the
 * store's transaction (`context.transaction`); a redelivered event that was already processed is
 * skipped and marked `context.duplicate`. Put it innermost: each attempt is one transaction.
 */
export function dedupe(store: Pick<IdempotencyStore, 'runOnce'>): Middleware {
  return (next) => async (event, context) => {
    const outcome = await store.runOnce(context.groupId, event.id, async (transaction) => {
      context.transaction = transaction;
      try {
        await next(event, context);
      } finally {
        context.transaction = undefined;
      }
    });
    if (outcome.duplicate) {
      context.duplicate = true;
      context.logger.info('duplicate delivery absorbed: event already processed by this group', {
        topic: context.record.topic,
        partition: context.record.partition,
        offset: context.record.offset,
      });
    }
  };
}

/**
 * Fails the attempt after `ms` and aborts `context.signal`. Place it outside dedupe: the timed-out
 * handler keeps its transaction until it returns, so a redelivery waits for it instead of racing.
 */
export function timeout(ms: number, abort: (reason: Error, context: HandlerContext) => void): Middleware {
  return (next) => async (event, context) => {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        const error = new HandlerTimeoutError(`handler for ${event.type} (event ${event.id}) took longer than ${ms} ms`, {
          retriable: true,
        });
        abort(error, context);
        reject(error);
      }, ms);
    });
    try {
      await Promise.race([next(event, context), expired]);
    } finally {
      clearTimeout(timer);
    }
  };
}
