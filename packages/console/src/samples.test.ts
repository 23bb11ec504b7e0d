import { createSamples } from './samples';

describe('createSamples', () => {
  it('keeps samples for the window and gives the growth per minute', () => {
    const samples = createSamples<number>(60_000);
    samples.add('dlq', 0, 10);
    expect(samples.ratePerMinute('dlq', (v) => v)).toBeNull();
    samples.add('dlq', 30_000, 13);
    expect(samples.ratePerMinute('dlq', (v) => v)).toBe(6);
    samples.add('dlq', 90_000, 16); // the first sample falls out of the window
    expect(samples.all()).toEqual({ dlq: [{ at: 30_000, value: 13 }, { at: 90_000, value: 16 }] });
  });
});
