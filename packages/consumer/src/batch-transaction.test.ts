import type { BatchingIdempotencyStore, IdempotencyBatch } from '@evkit/idempotency';
import { BatchTransaction, canBatch } from './batch-transaction';

/** A store double recording what the transaction asks of it. */
function store(batch: Partial<IdempotencyBatch> = {}) {
  const begun: string[][] = [];
  const commits: number[] = [];
  const s = {
    runOnce: () => Promise.reject(new Error('not per record')),
    deleteOlderThan: () => Promise.resolve(0),
    close: () => Promise.resolve(),
    beginBatch: (_group: string, ids: readonly string[]) => {
      begun.push([...ids]);
      return Promise.resolve<IdempotencyBatch>({
        runOnce: async (_g, _id, work) => ({ duplicate: false, result: await work(undefined) }),
        commit: () => {
          commits.push(begun.length);
          return Promise.resolve();
        },
        ...batch,
      });
    },
  } satisfies BatchingIdempotencyStore;
  return { store: s, begun, commits };
}

const records = [
  { offset: '5', eventId: 'e-5' },
  { offset: '6', eventId: undefined }, // undecodable or no handler: nothing to claim
  { offset: '7', eventId: 'e-7' },
];

describe('BatchTransaction', () => {
  it('ready() opens the batch for a record dedupe will ask for, not for one it will not, and resolves with a failed claim', async () => {
    const { store: s, begun } = store();
    const tx = new BatchTransaction(s, 'g', records);
    await expect(tx.ready('6')).resolves.toBeUndefined(); // nothing to claim for it
    expect(begun).toEqual([]);
    await expect(tx.ready('7')).resolves.toBeUndefined();
    await tx.storeFor('7').runOnce('g', 'e-7', () => Promise.resolve());
    expect(begun).toEqual([['e-7']]); // opened once
    const timedOut = new Error('claim timed out');
    const failing = new BatchTransaction({ ...s, beginBatch: () => Promise.reject(timedOut) }, 'g', records);
    await expect(failing.ready('5')).resolves.toBe(timedOut);
    await expect(failing.commit()).resolves.toEqual([]);
  });

  it('claims the event ids from the first record that reaches dedupe onwards, once, and commits them together', async () => {
    const { store: s, begun, commits } = store();
    const tx = new BatchTransaction(s, 'g', records);
    await tx.storeFor('6').runOnce('g', 'e-6', () => Promise.resolve());
    await tx.storeFor('7').runOnce('g', 'e-7', () => Promise.resolve());
    expect(begun).toEqual([['e-7']]); // e-5 was before the first record that reached dedupe
    tx.markHandled('6');
    tx.markHandled('7');
    await expect(tx.commit()).resolves.toEqual(['6', '7']);
    expect(commits).toEqual([1]);
    await expect(tx.commit()).resolves.toEqual([]); // nothing open: no second COMMIT
    expect(commits).toEqual([1]);
  });

  it('hands the attempt signal to the batch, and reports the batch broken only once the last call settled', async () => {
    const broken = new Error('connection destroyed');
    let failure: Error | undefined;
    let signal: AbortSignal | undefined;
    let finish!: () => void;
    const { store: s } = store({
      runOnce: (_g, _id, _work, options) => {
        signal = options?.signal;
        return new Promise((resolve) => {
          finish = () => {
            failure = broken;
            resolve({ duplicate: true });
          };
        });
      },
      failure: () => failure,
    });
    const tx = new BatchTransaction(s, 'g', records);
    const controller = new AbortController();
    const call = tx.storeFor('5').runOnce('g', 'e-5', () => Promise.resolve(), { signal: controller.signal });
    await new Promise((r) => setImmediate(r));
    expect(signal).toBe(controller.signal);
    let reported: Error | undefined | 'pending' = 'pending';
    const check = tx.failure().then((f) => (reported = f));
    await new Promise((r) => setImmediate(r));
    expect(reported).toBe('pending'); // waits for the call in flight
    finish();
    await call;
    await check;
    expect(reported).toBe(broken);
  });

  it('needs nothing committed when the batch failed to begin', async () => {
    const { store: s } = store();
    const failing = { ...s, beginBatch: () => Promise.reject(new Error('claim failed')) };
    const tx = new BatchTransaction(failing, 'g', records);
    await expect(tx.storeFor('5').runOnce('g', 'e-5', () => Promise.resolve())).rejects.toThrow('claim failed');
    await expect(tx.commit()).resolves.toEqual([]);
  });
});

describe('canBatch', () => {
  it('tells a batching store from a per-record one', () => {
    expect(canBatch(store().store)).toBe(true);
    expect(canBatch({ runOnce: () => Promise.reject(new Error('x')), deleteOlderThan: () => Promise.resolve(0), close: () => Promise.resolve() })).toBe(false);
    expect(canBatch(undefined)).toBe(false);
  });
});
