import type { IdempotencyStore } from '@evkit/idempotency';
import { ConsumerConfigError } from './errors';
import { compose, type BuiltInMiddleware, type EventHandler, type FailureRoutingHooks, type Middleware } from './handler';
import { dedupe, timeout, tracing } from './middleware';

/** An entry of `ConsumerOptions.middleware`: a middleware, or one of the consumer's own by name. */
export type PipelineEntry = Middleware | BuiltInMiddleware;

const BUILT_INS: readonly BuiltInMiddleware[] = ['tracing', 'timeout', 'dedupe'];

export interface Pipeline {
  /** The consumer-wide middleware, outermost first, built once. */
  readonly layers: readonly Middleware[];
  /** The failure routing listed, if any: its topics, deferral and dead letters. */
  readonly routing: FailureRoutingHooks | undefined;
  /** The chain of one route: the consumer's layers, then the route's own, then its handler. Called once per route. */
  chain(handler: EventHandler, routeMiddleware: readonly Middleware[]): EventHandler;
}

/**
 * The order of the layers. A list naming none of the built-ins gets the default order:
 *
 *   tracing → failure routing → timeout → the other middleware, as listed → dedupe → handler
 *
 * Failure routing must see every failed attempt, the timeout included; the timeout must be able
 * to abandon the attempt's transaction; dedupe makes each attempt one transaction. A list naming
 * any built-in is the whole order, as given: a built-in the options turn on (`handlerTimeoutMs`,
 * `idempotency`) must then be named, and one they do not turn on must not be.
 */
export function resolvePipeline(
  entries: readonly PipelineEntry[],
  builtIns: { handlerTimeoutMs: number | undefined; idempotency: Pick<IdempotencyStore, 'runOnce'> | undefined },
): Pipeline {
  for (const entry of entries) {
    if (typeof entry !== 'function' && !BUILT_INS.includes(entry)) {
      throw new ConsumerConfigError(`middleware entries must be functions or one of ${BUILT_INS.join(', ')}, got ${JSON.stringify(entry)}`);
    }
  }
  const routings = entries.flatMap((entry) => (typeof entry === 'function' && entry.failureRouting ? [entry.failureRouting] : []));
  if (routings.length > 1) throw new ConsumerConfigError('at most one failure routing middleware may be listed');
  const enabled: Record<BuiltInMiddleware, Middleware | undefined> = {
    tracing: tracing(),
    timeout: builtIns.handlerTimeoutMs === undefined ? undefined : timeout(builtIns.handlerTimeoutMs),
    dedupe: builtIns.idempotency ? dedupe(builtIns.idempotency) : undefined,
  };
  const named = entries.filter((entry): entry is BuiltInMiddleware => typeof entry === 'string');
  let order: readonly PipelineEntry[];
  if (named.length === 0) {
    const isRouting = (entry: PipelineEntry) => typeof entry === 'function' && entry.failureRouting !== undefined;
    order = ['tracing', ...entries.filter(isRouting), 'timeout', ...entries.filter((entry) => !isRouting(entry)), 'dedupe'];
  } else {
    if (new Set(named).size !== named.length) throw new ConsumerConfigError(`middleware names a built-in twice: ${named.join(', ')}`);
    const missing = (['timeout', 'dedupe'] as const).filter((name) => enabled[name] && !named.includes(name));
    if (missing.length > 0) throw new ConsumerConfigError(`middleware lists built-ins but not ${missing.join(', ')}, which the options turn on`);
    const off = named.filter((name) => !enabled[name]);
    if (off.length > 0) throw new ConsumerConfigError(`middleware names ${off.join(', ')}, which the options do not turn on (handlerTimeoutMs, idempotency)`);
    order = entries;
  }
  const layers = order.flatMap((entry) => {
    const layer = typeof entry === 'function' ? entry : enabled[entry];
    return layer ? [layer] : [];
  });
  return {
    layers,
    routing: routings[0],
    chain: (handler, routeMiddleware) => compose(layers, compose(routeMiddleware, handler)),
  };
}
