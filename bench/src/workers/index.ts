import type { Endpoints, WorkerHandler, WorkerSpec } from '../harness/protocol';

/** Loads only the module a worker needs, so each process holds just its own client (fair peak RSS). */
export async function createHandler(spec: WorkerSpec, endpoints: Endpoints): Promise<WorkerHandler> {
  switch (spec.kind) {
    case 'producer':
      return (await import('./producer.js')).producerWorker(spec, endpoints);
    case 'consumer':
      return (await import('./consumer.js')).consumerWorker(spec, endpoints);
    case 'soak-producer':
      return (await import('./soak.js')).soakProducerWorker(spec, endpoints);
    case 'soak-consumer':
      return (await import('./soak.js')).soakConsumerWorker(spec, endpoints);
    case 'outbox':
      return (await import('./outbox.js')).outboxWorker(spec, endpoints);
    case 'micro':
      return (await import('./micro.js')).microWorker(spec, endpoints);
    case 'saga':
      return (await import('./saga.js')).sagaWorker(spec, endpoints);
  }
}
