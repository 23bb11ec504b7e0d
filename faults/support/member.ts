import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MEMBER_LOG_DIR } from './env';
import type { HookPlan } from './member-child';
import { isProcessAlive, waitUntil } from './faults';
import { createMember, type HookPoint, type MemberHandle, type MemberSpec } from './workload';

// Consumer group members, in this process or in a child process of their own. A child is
// killed or paused by its own pid (process.kill), never by name.

export function memberLogFile(run: string, member: string): string {
  fs.mkdirSync(MEMBER_LOG_DIR, { recursive: true });
  return path.join(MEMBER_LOG_DIR, `${run}.${member}.log`);
}

export interface ChildMember {
  readonly member: string;
  readonly pid: number;
  /** Hooks the child reached, in order. */
  readonly hooks: HookPoint[];
  /** Resolves with the next hook the child reaches (or one it reached already and nobody took). */
  nextHook(timeoutMs: number): Promise<HookPoint>;
  /** Lets a child waiting at a `hold` hook go on. */
  release(): void;
  /** Graceful: the consumer finishes what it has, commits, leaves the group. */
  stop(timeoutMs?: number): Promise<void>;
  /** kill -9, then waits until the process is gone. */
  kill(): Promise<void>;
  pause(): void;
  resume(): void;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const CHILD_SCRIPT = path.join(__dirname, 'member-child.ts');
const REGISTER = path.join(__dirname, 'register.js');

/** Forks a member and resolves once it joined its group (bounded by `timeoutMs`). */
export async function startChildMember(spec: MemberSpec, plan: HookPlan[] = [], timeoutMs = 90_000): Promise<ChildMember> {
  const log = fs.openSync(spec.logFile, 'a');
  let child: ChildProcess;
  try {
    child = fork(CHILD_SCRIPT, [], {
      execArgv: ['--enable-source-maps', '-r', REGISTER],
      stdio: ['ignore', log, log, 'ipc'],
      env: { ...process.env, NODE_ENV: 'production' },
    });
  } finally {
    fs.closeSync(log);
  }
  const pid = child.pid!;
  const hooks: HookPoint[] = [];
  let taken = 0;
  const waiting: ((point: HookPoint) => void)[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let started!: () => void;
  let failed!: (error: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    started = resolve;
    failed = reject;
  });
  child.on('message', (message: { type: string; point?: HookPoint; message?: string }) => {
    if (message.type === 'started') started();
    if (message.type === 'failed') failed(new Error(`member ${spec.member} failed to start: ${message.message}`));
    if (message.type === 'hook') {
      hooks.push(message.point!);
      const next = waiting.shift();
      if (next) {
        taken += 1;
        next(message.point!);
      }
    }
  });
  void exited.then(({ code, signal }) => failed(new Error(`member ${spec.member} exited (${code ?? signal}) before it joined its group; see ${spec.logFile}`)));
  child.send({ type: 'start', spec, plan });
  const timer = setTimeout(() => failed(new Error(`member ${spec.member} did not join within ${timeoutMs} ms; see ${spec.logFile}`)), timeoutMs);
  try {
    await ready;
  } catch (error) {
    if (isProcessAlive(pid)) process.kill(pid, 'SIGKILL');
    throw error;
  } finally {
    clearTimeout(timer);
  }

  const handle: ChildMember = {
    member: spec.member,
    pid,
    hooks,
    nextHook(hookTimeoutMs) {
      if (taken < hooks.length) return Promise.resolve(hooks[taken++]!);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => {
          const i = waiting.indexOf(take);
          if (i >= 0) waiting.splice(i, 1);
          reject(new Error(`member ${spec.member} reached no hook within ${hookTimeoutMs} ms; see ${spec.logFile}`));
        }, hookTimeoutMs);
        const take = (point: HookPoint) => {
          clearTimeout(t);
          resolve(point);
        };
        waiting.push(take);
      });
    },
    release() {
      if (child.connected) child.send({ type: 'release' });
    },
    async stop(stopTimeoutMs = 60_000) {
      if (!isProcessAlive(pid)) return;
      process.kill(pid, 'SIGCONT');
      if (child.connected) child.send({ type: 'stop' });
      const done = await Promise.race([exited.then(() => true), sleepFor(stopTimeoutMs).then(() => false)]);
      if (!done) await handle.kill();
    },
    async kill() {
      if (isProcessAlive(pid)) process.kill(pid, 'SIGKILL');
      await exited;
    },
    pause() {
      process.kill(pid, 'SIGSTOP');
    },
    resume() {
      process.kill(pid, 'SIGCONT');
    },
    exited,
  };
  return handle;
}

/** A member in this process: faults that need no kill of the consumer itself. */
export async function startLocalMember(spec: MemberSpec, hook?: (point: HookPoint) => Promise<void>): Promise<MemberHandle> {
  const handle = createMember(spec, hook);
  await handle.consumer.start();
  return handle;
}

export async function waitForExit(member: ChildMember, timeoutMs: number): Promise<void> {
  await waitUntil(`member ${member.member} gone`, () => !isProcessAlive(member.pid), timeoutMs);
}

function sleepFor(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
