export { createConsumer, MAX_TIMER_MS } from './consumer';
export type { Consumer, ConsumerOptions, PartitionLag, RouteOptions } from './consumer';
export { compose } from './handler';
export type { DeadLetterInfo, DeadLetterReason, DeadLetterSink, EventHandler, HandlerContext, Middleware } from './handler';
export { dedupe, timeout } from './middleware';
export { ConsumerConfigError, HandlerTimeoutError, UnknownEventTypeError } from './errors';
