import * as fs from 'node:fs';
import { Session } from 'node:inspector';
import { createHandler } from '../workers';
import type { Endpoints, ProfileRequest, Reply, Request, StopReport, WorkerHandler, WorkerSpec } from './protocol';

// The worker process: builds its handler on `init`, serves `run`s, reports peak RSS on `stop`.

let handler: WorkerHandler | undefined;

const reply = (message: Reply): Promise<void> => new Promise((resolve) => process.send!(message, undefined, {}, () => resolve()));

const describe = (error: unknown): string => (error instanceof Error ? (error.stack ?? error.message) : String(error));

async function serve(request: Request): Promise<unknown> {
  switch (request.op) {
    case 'init': {
      const { spec, endpoints } = request.payload as { spec: WorkerSpec; endpoints: Endpoints };
      handler = await createHandler(spec, endpoints);
      return undefined;
    }
    case 'run':
      return handler!.run(request.payload);
    case 'profile':
      return profiled(request.payload as ProfileRequest);
    case 'stop': {
      await handler?.stop();
      return { peakRssMb: process.resourceUsage().maxRSS / 1024 } satisfies StopReport;
    }
  }
}

/** One run with the CPU profiler on: the hot path only, without start-up and connecting. */
async function profiled({ body, file }: ProfileRequest): Promise<unknown> {
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) => session.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result))));
  try {
    await post('Profiler.enable');
    await post('Profiler.start');
    const value = await handler!.run(body);
    const { profile } = (await post('Profiler.stop')) as { profile: unknown };
    fs.writeFileSync(file, JSON.stringify(profile));
    return value;
  } finally {
    session.disconnect();
  }
}

process.on('message', (request: Request) => {
  serve(request).then(
    async (value) => {
      await reply({ id: request.id, ok: true, value });
      // Exit on stop even if a client left a handle open.
      if (request.op === 'stop') process.exit(0);
    },
    (error: unknown) => reply({ id: request.id, ok: false, error: describe(error) }),
  );
});

process.on('unhandledRejection', (error) => {
  console.error('bench worker: unhandled rejection', describe(error));
  process.exit(1);
});
