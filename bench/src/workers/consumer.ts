import { createConsumerClient } from '../clients/consumers';
import type { ConsumeRun, Endpoints, WorkerHandler, WorkerSpec } from '../harness/protocol';

export function consumerWorker(spec: Extract<WorkerSpec, { kind: 'consumer' }>, endpoints: Endpoints): Promise<WorkerHandler> {
  const client = createConsumerClient(spec.variant, endpoints, spec.dedupeTable);
  return Promise.resolve({
    run: (payload) => client.consume(payload as ConsumeRun),
    stop: () => client.close(),
  });
}
