import { isPlatformaticVariant, type ConsumeRun, type Endpoints, type WorkerHandler, type WorkerSpec } from '../harness/protocol';

export async function consumerWorker(spec: Extract<WorkerSpec, { kind: 'consumer' }>, endpoints: Endpoints): Promise<WorkerHandler> {
  // Only the module of this variant's client is loaded (the platformatic one runs on Node 22 only).
  const { variant } = spec;
  const client = isPlatformaticVariant(variant)
    ? await (await import('../clients/platformatic.js')).createPlatformaticConsumerClient(variant, endpoints)
    : (await import('../clients/consumers.js')).createConsumerClient(variant, endpoints, spec.dedupeTable);
  return {
    run: (payload) => client.consume(payload as ConsumeRun),
    stop: () => client.close(),
  };
}
