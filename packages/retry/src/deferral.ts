import type { IncomingRecord } from '@evkit/transport';
import type { RetryBookkeeping } from './bookkeeping';

/** Records whose first sighting is remembered at once; past it the oldest is forgotten (its clock restarts). */
const REMEMBERED = 10_000;

/**
 * When a retry record is due: its not-before, but never later than the tier's longest delay
 * (delay plus jitter) after this process first saw it, so a forged or skewed not-before cannot
 * hold a partition longer than the tier would. The first sighting, not the record's timestamp,
 * anchors the bound: a producer sets the timestamp too.
 */
export function createDeferralClock(options: { jitter: number; now: () => number }) {
  const firstSeen = new Map<string, number>();
  const keyOf = (record: IncomingRecord) => `${record.topic}\u0000${record.partition}\u0000${record.offset}`;
  return (record: IncomingRecord, retry: NonNullable<RetryBookkeeping['retry']>): number => {
    const now = options.now();
    const key = keyOf(record);
    if (retry.notBefore <= now) {
      firstSeen.delete(key);
      return retry.notBefore;
    }
    let seen = firstSeen.get(key);
    if (seen === undefined) {
      seen = now;
      firstSeen.set(key, seen);
      if (firstSeen.size > REMEMBERED) firstSeen.delete(firstSeen.keys().next().value!);
    }
    const due = Math.min(retry.notBefore, seen + Math.ceil(retry.tierDelayMs * (1 + options.jitter)));
    if (due <= now) firstSeen.delete(key);
    return due;
  };
}
