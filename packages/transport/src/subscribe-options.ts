import { TransportConfigError } from './errors';
import type { SubscribeOptions, TopicSpec } from './transport';

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

/** `ensureTopics`' argument checked at the edge, plain names turned into specs. */
export function toTopicSpecs(topics: readonly (string | TopicSpec)[]): TopicSpec[] {
  if (!Array.isArray(topics)) throw new TransportConfigError('ensureTopics takes an array of topic names or specs');
  const name = (value: unknown) => typeof value === 'string' && value.length > 0;
  return topics.map((entry: string | TopicSpec, i: number) => {
    const spec: TopicSpec = typeof entry === 'string' ? { topic: entry } : entry;
    if (spec === null || typeof spec !== 'object' || !name(spec.topic)) {
      throw new TransportConfigError(`ensureTopics[${i}] must be a topic name or { topic, sizedLike? }`);
    }
    const { sizedLike } = spec;
    if (
      sizedLike !== undefined &&
      (sizedLike === null || !name(sizedLike.topic) || !Number.isInteger(sizedLike.headroomBytes) || sizedLike.headroomBytes < 0)
    ) {
      throw new TransportConfigError(`ensureTopics[${i}].sizedLike must be { topic, headroomBytes } with a non-negative integer headroom`);
    }
    return spec;
  });
}
