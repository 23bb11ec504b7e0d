import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { StackCommandError, StackServiceUnhealthyError } from './errors';

/** Runs a command to completion; a non-zero exit becomes a StackCommandError with its output. */
export function run(command: string, args: readonly string[], options: SpawnSyncOptions = {}): string {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (result.error) {
    throw new StackCommandError(`could not run ${command}: ${result.error.message}`, { cause: result.error });
  }
  const output = `${String(result.stdout ?? '')}${String(result.stderr ?? '')}`;
  if (result.status !== 0) {
    throw new StackCommandError(
      `${command} ${args.join(' ')} exited with ${result.status ?? result.signal}:\n${lastLines(output, 40)}`,
    );
  }
  return output;
}

export function commandExists(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

export interface DaemonSpec {
  command: string;
  args: readonly string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  logFile: string;
  pidFile: string;
  /** Run as this user (PostgreSQL refuses to run as root). */
  uid?: number;
  gid?: number;
}

/**
 * Starts a long-running process in its own process group, detached from this one, with stdout
 * and stderr appended to its log file. The pid file names the process itself (not a wrapper
 * shell), so fault tests can kill -9 or SIGSTOP exactly that process.
 */
export function startDaemon(spec: DaemonSpec): number {
  const log = fs.openSync(spec.logFile, 'a');
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      detached: true,
      stdio: ['ignore', log, log],
      ...(spec.uid === undefined ? {} : { uid: spec.uid }),
      ...(spec.gid === undefined ? {} : { gid: spec.gid }),
    });
    if (child.pid === undefined) {
      throw new StackCommandError(`could not start ${spec.command}; see ${spec.logFile}`);
    }
    child.unref();
    fs.writeFileSync(spec.pidFile, `${child.pid}\n`);
    return child.pid;
  } finally {
    fs.closeSync(log);
  }
}

export function readPid(pidFile: string): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(pidFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const pid = Number(text.split('\n')[0]?.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Alive and not a zombie; `marker`, when given, must be one of its command-line arguments, or the
 * value of one (`-Dname=<marker>`): guards pid reuse, and tells `<dir>/kafka` from `<dir>/kafka-2`.
 */
export function isAlive(pid: number, marker?: string): boolean {
  let status: string;
  try {
    status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return false;
  }
  if (/^State:\s+Z/m.test(status)) return false;
  if (marker === undefined) return true;
  try {
    const args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return args.some((arg) => arg === marker || arg.endsWith(`=${marker}`));
  } catch {
    return false;
  }
}

/** `stopSignal`, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopProcess(pid: number, stopSignal: NodeJS.Signals = 'SIGTERM', graceMs = 30_000): Promise<void> {
  // SIGCONT first: a process paused by a fault test cannot act on the stop signal.
  if (!signal(pid, 'SIGCONT') || !signal(pid, stopSignal)) return;
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return;
    await sleep(200);
  }
  signal(pid, 'SIGKILL');
  while (isAlive(pid)) await sleep(100);
}

function signal(pid: number, name: NodeJS.Signals): boolean {
  try {
    process.kill(pid, name);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function lastLines(text: string, count: number): string {
  return text.trimEnd().split('\n').slice(-count).join('\n');
}

export function logTail(logFile: string, count = 30): string {
  try {
    return lastLines(fs.readFileSync(logFile, 'utf8'), count);
  } catch {
    return '(no log yet)';
  }
}

export interface HealthWait {
  service: string;
  timeoutMs: number;
  logFile: string;
  /** Resolves true when healthy; false or a throw means not yet. */
  probe: () => Promise<boolean>;
  /** Fails fast when the process died instead of waiting out the timeout. */
  stillRunning: () => boolean;
}

export async function waitUntilHealthy(wait: HealthWait): Promise<void> {
  const deadline = Date.now() + wait.timeoutMs;
  let lastError = '';
  for (;;) {
    try {
      if (await wait.probe()) return;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    if (!wait.stillRunning()) {
      throw new StackServiceUnhealthyError(
        `${wait.service} exited during start-up. Last lines of ${wait.logFile}:\n${logTail(wait.logFile)}`,
      );
    }
    if (Date.now() > deadline) {
      throw new StackServiceUnhealthyError(
        `${wait.service} not healthy after ${wait.timeoutMs} ms${lastError ? ` (last probe: ${lastError})` : ''}. ` +
          `Last lines of ${wait.logFile}:\n${logTail(wait.logFile)}`,
      );
    }
    await sleep(500);
  }
}

/** True when something accepts TCP connections on 127.0.0.1:`port`. */
export function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(true); // something holds the port but does not answer: still taken
    });
    socket.once('error', () => resolve(false));
  });
}
