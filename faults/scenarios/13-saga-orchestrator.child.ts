import { startOrchestrator, type Orchestrator, type SagaSpec } from './13-saga.workload';

// Scenario 13a's orchestrator in a process of its own, so the suite can kill -9 it by its pid.
//   parent → child  { type: 'start', spec }   { type: 'stop' }
//   child → parent  { type: 'started' }   { type: 'held', nth }   { type: 'failed', message }
// With spec.holdAt, the COMMIT of that saga transition never goes: the child tells the parent
// and waits to be killed, its transaction open.

let orchestrator: Orchestrator | undefined;

function send(message: unknown): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

async function start(spec: SagaSpec): Promise<void> {
  const hold = async (nth: number) => {
    if (nth < spec.holdAt!) return;
    await send({ type: 'held', nth });
    await new Promise<never>(() => {});
  };
  orchestrator = await startOrchestrator(spec, spec.holdAt === undefined ? undefined : hold);
  await send({ type: 'started' });
}

process.on('message', (message: { type: 'start'; spec: SagaSpec } | { type: 'stop' }) => {
  if (message.type === 'start') {
    start(message.spec).catch(async (error: unknown) => {
      await send({ type: 'failed', message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
      process.exit(1);
    });
  } else {
    void (async () => {
      try {
        await orchestrator?.stop();
      } finally {
        process.exit(0);
      }
    })();
  }
});
// The parent went away (a failed test run): do not outlive it.
process.on('disconnect', () => process.exit(0));
