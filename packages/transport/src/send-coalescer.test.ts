import { TransportConfigError } from './errors';
import { createSendCoalescer, resolveSendCoalescing } from './send-coalescer';
import type { OutgoingRecord, RecordPosition } from './transport';

const record = (value: string): OutgoingRecord => ({ topic: 't', key: 'k', value: Buffer.from(value), headers: {} });
const positions = (records: OutgoingRecord[]): RecordPosition[] => records.map((r) => ({ topic: r.topic, partition: 0, offset: r.value!.toString() }));

describe('createSendCoalescer', () => {
  it('sends one request at a time; sends that arrive meanwhile go out together, each caller getting its own positions', async () => {
    const requests: string[][] = [];
    const coalescer = createSendCoalescer(
      async (records) => {
        requests.push(records.map((r) => r.value!.toString()));
        await new Promise((resolve) => setTimeout(resolve, 10));
        return positions(records);
      },
      { maxBatchRecords: 3, maxBatchBytes: 1_000, lingerMs: 0 },
    );
    const results = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((v) => coalescer.send([record(v)])));
    expect(requests).toEqual([['a'], ['b', 'c', 'd'], ['e']]);
    expect(results.map((r) => r[0]!.offset)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('fails exactly the callers of a failed request', async () => {
    let call = 0;
    const coalescer = createSendCoalescer(
      async (records) => {
        call += 1;
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (call === 2) throw new Error('lost');
        return positions(records);
      },
      { maxBatchRecords: 10, maxBatchBytes: 1_000, lingerMs: 0 },
    );
    const outcomes = await Promise.allSettled(['a', 'b', 'c'].map((v) => coalescer.send([record(v)])));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
    await expect(coalescer.send([record('d')])).resolves.toEqual([{ topic: 't', partition: 0, offset: 'd' }]);
  });

  it('fails only the callers of records a partly acknowledged request has no position for (F8)', async () => {
    const unknown = new Error('no offset for partition 1');
    const coalescer = createSendCoalescer(
      async (records) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        // A request whose partition 1 was not acknowledged: the records of 'b' and 'd' have no position.
        return records.map((r, i) => (['b', 'd'].includes(r.value!.toString()) ? unknown : { topic: 't', partition: i % 2, offset: r.value!.toString() }));
      },
      { maxBatchRecords: 10, maxBatchBytes: 1_000, lingerMs: 0 },
    );
    const first = coalescer.send([record('a')]);
    const joined = [coalescer.send([record('b')]), coalescer.send([record('c')]), coalescer.send([record('c2'), record('d')])];
    await expect(first).resolves.toEqual([{ topic: 't', partition: 0, offset: 'a' }]);
    const outcomes = await Promise.allSettled(joined);
    expect(outcomes).toEqual([
      { status: 'rejected', reason: unknown },
      { status: 'fulfilled', value: [{ topic: 't', partition: 1, offset: 'c' }] },
      // A caller with one record acknowledged and one not gets the error: all its positions or none.
      { status: 'rejected', reason: unknown },
    ]);
  });

  it('lingers for others to join a send to an idle coalescer, and drains', async () => {
    const requests: number[] = [];
    const coalescer = createSendCoalescer(
      (records) => {
        requests.push(records.length);
        return Promise.resolve(positions(records));
      },
      { maxBatchRecords: 10, maxBatchBytes: 1_000, lingerMs: 20 },
    );
    const sends = [coalescer.send([record('a')]), coalescer.send([record('b')])];
    await coalescer.drain();
    await Promise.all(sends);
    expect(requests).toEqual([2]);
    await expect(coalescer.send([])).resolves.toEqual([]);
  });

  it('calls sendAll again only once the previous call settled, also when it fails at once', async () => {
    let running = 0;
    let most = 0;
    let call = 0;
    const coalescer = createSendCoalescer(
      (records) => {
        call += 1;
        if (call === 1) throw new Error('synchronous');
        running += 1;
        most = Math.max(most, running);
        return new Promise((resolve) =>
          setTimeout(() => {
            running -= 1;
            resolve(positions(records));
          }, 2),
        );
      },
      { maxBatchRecords: 1, maxBatchBytes: 1_000, lingerMs: 0 },
    );
    const outcomes = await Promise.allSettled(['a', 'b', 'c', 'd'].map((v) => coalescer.send([record(v)])));
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(most).toBe(1);
  });

  it('keeps one caller whole even when it alone is over the bounds, and bounds the bytes', async () => {
    const requests: string[][] = [];
    let release: (() => void) | undefined;
    const coalescer = createSendCoalescer(
      async (records) => {
        requests.push(records.map((r) => r.value!.toString()));
        if (requests.length === 1) await new Promise<void>((resolve) => (release = resolve));
        return positions(records);
      },
      { maxBatchRecords: 3, maxBatchBytes: 10, lingerMs: 0 },
    );
    const sends = [coalescer.send([record('a')])];
    sends.push(coalescer.send([record('b'), record('c')]), coalescer.send([record('d'), record('e')]), coalescer.send([record('x'.repeat(20))]));
    sends.push(coalescer.send([record('f')]));
    release!();
    await Promise.all(sends);
    // Keys count too: 'k' + one-letter value is 2 per record.
    expect(requests).toEqual([['a'], ['b', 'c'], ['d', 'e'], ['x'.repeat(20)], ['f']]);
  });

  it('waits in drain for a send in flight', async () => {
    let done = false;
    const coalescer = createSendCoalescer(
      async (records) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        done = true;
        return positions(records);
      },
      { maxBatchRecords: 10, maxBatchBytes: 1_000, lingerMs: 0 },
    );
    const sent = coalescer.send([record('a')]);
    await coalescer.drain();
    expect(done).toBe(true);
    await expect(sent).resolves.toHaveLength(1);
  });
});

describe('resolveSendCoalescing', () => {
  it('applies the defaults', () => {
    expect(resolveSendCoalescing({})).toEqual({ maxBatchRecords: 10_000, maxBatchBytes: 1_048_576, lingerMs: 0 });
    expect(resolveSendCoalescing({ maxBatchRecords: 5, maxBatchBytes: 100, lingerMs: 60_000 })).toEqual({ maxBatchRecords: 5, maxBatchBytes: 100, lingerMs: 60_000 });
  });

  it.each([
    [{ maxBatchRecords: 0 }, 'maxBatchRecords must be a positive integer, got 0'],
    [{ maxBatchBytes: 1.5 }, 'maxBatchBytes must be a positive integer, got 1.5'],
    [{ lingerMs: -1 }, 'lingerMs must be an integer from 0 to 60000, got -1'],
    [{ lingerMs: 60_001 }, 'lingerMs must be an integer from 0 to 60000, got 60001'],
  ])('refuses %j', (options, message) => {
    expect(() => resolveSendCoalescing(options)).toThrow(TransportConfigError);
    expect(() => resolveSendCoalescing(options)).toThrow(message);
  });
});
