import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { Endpoints, ProfileRequest, Reply, Request, StopReport, WorkerSpec } from './protocol';

/**
 * A benchmark variant in its own Node process: its own heap, JIT and peak RSS, and the
 * orchestrator's bookkeeping never on its event loop. Calls are sequential request/reply.
 */
export class Worker {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private exited: Error | undefined;

  private constructor(private readonly child: ChildProcess, readonly label: string) {
    child.on('message', (reply: Reply) => {
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.value);
      else waiter.reject(new Error(`${label}: ${reply.error}`));
    });
    child.on('exit', (code, signal) => {
      this.exited = new Error(`${label}: worker exited (${signal ?? `code ${code}`})`);
      for (const waiter of this.pending.values()) waiter.reject(this.exited);
      this.pending.clear();
    });
  }

  /** `execPath`: another Node binary for this worker (the @platformatic/kafka variants need Node 22). */
  static async start(spec: WorkerSpec, endpoints: Endpoints, label: string, execPath?: string): Promise<Worker> {
    const child = fork(path.join(__dirname, 'child.js'), [], {
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      ...(execPath === undefined ? {} : { execPath }),
    });
    const worker = new Worker(child, label);
    await worker.call('init', { spec, endpoints });
    return worker;
  }

  run<T>(payload: unknown): Promise<T> {
    return this.call('run', payload) as Promise<T>;
  }

  /** A run under the CPU profiler, which writes `file` (a .cpuprofile). */
  profile<T>(request: ProfileRequest): Promise<T> {
    return this.call('profile', request) as Promise<T>;
  }

  async stop(): Promise<StopReport> {
    const report = (await this.call('stop')) as StopReport;
    await new Promise<void>((resolve) => (this.child.exitCode !== null ? resolve() : this.child.once('exit', () => resolve())));
    return report;
  }

  /** For cleanup after a failure. */
  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }

  private call(op: Request['op'], payload?: unknown): Promise<unknown> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ id, op, payload } satisfies Request);
    });
  }
}
