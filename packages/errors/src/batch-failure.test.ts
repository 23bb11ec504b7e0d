import { isBatchFailure, markBatchFailure } from './batch-failure';
import { EvkitError } from './evkit-error';

class StoreError extends EvkitError {
  readonly code = 'EVKIT_TEST_STORE_FAILED';
}

describe('batch failures', () => {
  it("marks an error as its batch's, keeping it the same error", () => {
    const error = new StoreError('the batch transaction broke', { retriable: true });
    expect(isBatchFailure(error)).toBe(false);
    expect(markBatchFailure(error)).toBe(error);
    expect(isBatchFailure(error)).toBe(true);
    expect(markBatchFailure(error)).toBe(error); // marking twice is harmless
    expect(Object.keys(error)).not.toContain('evkit.failsBatch');
  });

  it('is false for anything unmarked', () => {
    for (const value of [new Error('x'), undefined, null, 'text', { failsBatch: true }]) expect(isBatchFailure(value)).toBe(false);
  });
});
