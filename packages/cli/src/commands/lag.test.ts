import { run } from '../program';
import { useCapturedOutput } from '../cli-fixtures.test-support';
import { formatDuration, lagTable } from './lag';

describe('evkit lag output', () => {
  const output = useCapturedOutput();

  it('formats time lag for people', () => {
    expect([0, 850, 4_250, 187_000, 93_669_000].map(formatDuration)).toEqual(['0 ms', '850 ms', '4.3 s', '3m 07s', '26h 01m 09s']);
    expect(formatDuration(null)).toBe('unknown');
  });

  it('aligns one row per partition, with - for a partition the group never committed', () => {
    const partition = { logStartOffset: '0', oldestUnhandledAt: null };
    expect(
      lagTable({
        groupId: 'g',
        state: 'Stable',
        members: 1,
        partitions: [
          { ...partition, topic: 'orders', partition: 0, committedOffset: '10', highWatermark: '15', offsetLag: 5, timeLagMs: 187_000 },
          { ...partition, topic: 'orders', partition: 1, committedOffset: null, highWatermark: '1200', offsetLag: 1200, timeLagMs: null },
        ],
      }),
    ).toEqual([
      'TOPIC   PARTITION  COMMITTED  END   LAG   TIME LAG',
      'orders  0          10         15    5     3m 07s',
      'orders  1          -          1200  1200  unknown',
    ]);
  });

  it('refuses a bad --timeout and an empty --topics before connecting', async () => {
    expect(await run(['lag', 'g', '--timeout', '-5'])).toBe(2);
    expect(output.stderr).toContain('--timeout must be a positive number of milliseconds up to 2147483647, got -5');
    expect(await run(['lag', 'g', '--topics', ' , '])).toBe(2);
    expect(output.stderr).toContain('--topics needs at least one topic');
  });
});
