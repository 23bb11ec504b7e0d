export { createFailureRouting, defaultIsRetriable, DEFAULT_TOPIC_NAMING } from './routing';
export type { FailureRouting, FailureRoutingOptions, TopicNaming } from './routing';
export { createReplayer, matchesSelection, readDeadLetterEntry, replayGroupFor } from './replay';
export type { DeadLetterEntry, Replayer, ReplayerOptions, ReplayOptions, ReplayProgress, ReplayReport, ReplaySelection } from './replay';
export { DLT_HEADERS, REPLAY_HEADERS, RETRY_HEADERS, redactSecrets } from './headers';
export { FailureRoutingError, NonRetriableError, RetryConfigError } from './errors';
export { observeDeadLetterDepth } from './depth';
export type { DeadLetterDepth } from './depth';
