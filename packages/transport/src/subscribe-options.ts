import { TransportConfigError } from './errors';
import type { SubscribeOptions } from './transport';

/** Checks `run`'s options at the edge, so every transport refuses the same mistakes the same way. */
export function validateSubscribeOptions(options: SubscribeOptions): void {
  if (options === null || typeof options !== 'object') throw new TransportConfigError('run options are required');
  if (typeof options.groupId !== 'string' || options.groupId.length === 0) {
    throw new TransportConfigError('groupId must be a non-empty string');
  }
  if (!Array.isArray(options.topics) || options.topics.length === 0 || options.topics.some((t) => typeof t !== 'string' || t.length === 0)) {
    throw new TransportConfigError('topics must be a non-empty array of topic names');
  }
  if (typeof options.handleBatch !== 'function') throw new TransportConfigError('handleBatch must be a function');
}
