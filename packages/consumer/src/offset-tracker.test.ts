import type { IncomingRecord } from '@evkit/transport';
import { OffsetTracker } from './offset-tracker';

const records = (offsets: string[]): IncomingRecord[] =>
  offsets.map((offset) => ({ topic: 't', partition: 0, offset, key: null, value: null, headers: {}, timestamp: Number(offset) }));

describe('OffsetTracker', () => {
  it('commits nothing until the first record is done, then up to the first gap', () => {
    const tracker = new OffsetTracker(records(['10', '11', '12', '13']));
    expect(tracker.commitOffset()).toBeUndefined();
    tracker.markDone('12'); // out of order: behind a gap
    expect(tracker.commitOffset()).toBeUndefined();
    expect(tracker.firstPendingRecord()?.offset).toBe('10');
    tracker.markDone('10');
    expect(tracker.commitOffset()).toBe('11'); // the next to read, not past 11
    tracker.markDone('11');
    expect(tracker.commitOffset()).toBe('13'); // 10, 11 and 12 done
    expect(tracker.firstPendingRecord()?.offset).toBe('13');
    expect(tracker.allDone()).toBe(false);
    tracker.markDone('13');
    expect(tracker.allDone()).toBe(true);
    expect(tracker.commitOffset()).toBe('14');
    expect(tracker.firstPendingRecord()).toBeUndefined();
  });

  it('compares offsets as 64-bit numbers, not strings, and follows gaps in the offsets (compaction)', () => {
    const tracker = new OffsetTracker(records(['9007199254740993', '9007199254740999']));
    tracker.markDone('9007199254740993');
    expect(tracker.commitOffset()).toBe('9007199254740994');
    tracker.markDone('9007199254740999');
    expect(tracker.commitOffset()).toBe('9007199254741000');
  });
});
