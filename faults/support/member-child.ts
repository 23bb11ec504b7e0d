import { createMember, type HookPoint, type MemberHandle, type MemberSpec } from './workload';

// A consumer group member in a process of its own, so the suite can kill -9 or SIGSTOP it by its
// pid. Driven over the IPC channel of child_process.fork (member.ts is the other end):
//   parent → child  { type: 'start', spec, plan }   { type: 'release' }   { type: 'stop' }
//   child → parent  { type: 'started' }   { type: 'hook', point }   { type: 'failed', message }

/** Where the member stops and tells the parent; `hang` never goes on (the parent kills it). */
export interface HookPlan {
  phase: HookPoint['phase'];
  /** The nth event this member applies. */
  nth: number;
  action: 'hang' | 'hold' | 'notify';
}

type FromParent = { type: 'start'; spec: MemberSpec; plan?: HookPlan[] } | { type: 'release' } | { type: 'stop' };

let handle: MemberHandle | undefined;
const releases: (() => void)[] = [];

function send(message: unknown): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

async function start(spec: MemberSpec, plan: HookPlan[]): Promise<void> {
  const hook = async (point: HookPoint) => {
    const step = plan.find((p) => p.phase === point.phase && p.nth === point.nth);
    if (!step) return;
    await send({ type: 'hook', point });
    if (step.action === 'hang') await new Promise<never>(() => {});
    if (step.action === 'hold') await new Promise<void>((resolve) => releases.push(resolve));
  };
  handle = createMember(spec, plan.length > 0 ? hook : undefined);
  await handle.consumer.start();
  await send({ type: 'started' });
}

process.on('message', (message: FromParent) => {
  switch (message.type) {
    case 'start':
      start(message.spec, message.plan ?? []).catch(async (error: unknown) => {
        await send({ type: 'failed', message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
        process.exit(1);
      });
      break;
    case 'release':
      for (const release of releases.splice(0)) release();
      break;
    case 'stop':
      void (async () => {
        try {
          await handle?.stop();
        } finally {
          process.exit(0);
        }
      })();
      break;
  }
});
// The parent went away (a failed test run): do not outlive it.
process.on('disconnect', () => process.exit(0));
