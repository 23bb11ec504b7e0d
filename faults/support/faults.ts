import * as fs from 'node:fs';

// Fault injection by pid: kill -9, SIGSTOP and SIGCONT of one process (or of a process and its
// children, for PostgreSQL's backends), and bounded waiting. Nothing is signalled by name.

export function isProcessAlive(pid: number): boolean {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return !/^State:\s+Z/m.test(status);
  } catch {
    return false;
  }
}

/** kill -9 and wait until the process is gone (bounded). */
export async function kill9(pid: number, what: string, timeoutMs = 30_000): Promise<number> {
  const at = Date.now();
  process.kill(pid, 'SIGKILL');
  await waitUntil(`${what} (pid ${pid}) gone after kill -9`, () => !isProcessAlive(pid), timeoutMs);
  return at;
}

/** The process and its direct children (PostgreSQL's postmaster and its backends). */
export function withChildren(pid: number): number[] {
  const pids = [pid];
  try {
    for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
      const children = fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      for (const child of children.split(/\s+/).filter(Boolean)) pids.push(Number(child));
    }
  } catch {
    // gone meanwhile: what was found is what there is
  }
  return [...new Set(pids)];
}

/** SIGSTOP each pid; returns the time of the pause. Children first, so none is left running under a stopped parent. */
export function pause(pids: readonly number[]): number {
  for (const pid of [...pids].reverse()) signal(pid, 'SIGSTOP');
  return Date.now();
}

/** SIGCONT each pid; returns the time of the resume. */
export function resume(pids: readonly number[]): number {
  for (const pid of pids) signal(pid, 'SIGCONT');
  return Date.now();
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves after `ms` without keeping the process alive: for Promise.race bounds. */
export function bound(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Polls `condition` every 100 ms until it holds; throws after `timeoutMs`. */
export async function waitUntil(what: string, condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** Like waitUntil, but answers whether it held instead of throwing. */
export async function holdsWithin(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  try {
    await waitUntil('condition', condition, timeoutMs);
    return true;
  } catch {
    return false;
  }
}
