export { createConsumer } from './consumer';
export type { Consumer } from './consumer';
export type { ConsumerOptions, RouteOptions } from './options';
export type { PartitionLag } from './lag';
export { exponentialDelay, jittered, MAX_TIMER_MS, sleep } from './backoff';
export { compose } from './handler';
export type {
  BuiltInMiddleware,
  DeadLetterInfo,
  DeadLetterReason,
  DeadLetterSink,
  EventHandler,
  FailureRoutingHooks,
  HandlerContext,
  Middleware,
} from './handler';
export type { PipelineEntry } from './pipeline';
export { dedupe, timeout, tracing } from './middleware';
export { ConsumerConfigError, HandlerTimeoutError, UnknownEventTypeError } from './errors';
