import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createLocalStack, StackPortInUseError, type LocalStack } from '@evkit/stack';

// A second stack of its own (PostgreSQL only, other port, temporary folder), so starting,
// restarting and stopping it leaves the shared stack the other tests use alone.
describe('stack lifecycle', () => {
  let dir: string;
  let stack: LocalStack;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evkit-lifecycle-'));
    fs.chmodSync(dir, 0o755); // keeps PostgreSQL's data inside it when running as root
    stack = createLocalStack({ dir, services: ['postgres'], ports: { postgres: 25432 } });
  });
  afterAll(async () => {
    await stack.down();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('starts from nothing, and a second up is harmless', async () => {
    const [first] = await stack.up();
    expect(first).toMatchObject({ name: 'postgres', healthy: true });
    const [second] = await stack.up();
    expect(second!.pid).toBe(first!.pid);
  }, 120_000);

  it('restarts a service that was killed with -9 on the next up', async () => {
    const killed = stack.pidOf('postgres')!;
    process.kill(killed, 'SIGKILL');
    await waitFor(() => !fs.existsSync(`/proc/${killed}`) || fs.readFileSync(`/proc/${killed}/status`, 'utf8').includes('State:\tZ'));
    expect((await stack.status())[0]).toMatchObject({ pid: undefined, healthy: false });
    const [restarted] = await stack.up();
    expect(restarted).toMatchObject({ healthy: true });
    expect(restarted!.pid).not.toBe(killed);
  }, 120_000);

  it('down leaves no process behind, and a second down is harmless', async () => {
    const pid = stack.pidOf('postgres')!;
    const children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    expect(children.length).toBeGreaterThan(0); // PostgreSQL's own workers
    await stack.down();
    for (const p of [pid, ...children.map(Number)]) expect(fs.existsSync(`/proc/${p}`)).toBe(false);
    expect(await stack.status()).toEqual([expect.objectContaining({ pid: undefined, healthy: false })]);
    await stack.down();
  }, 60_000);
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('a port taken by someone else', () => {
  it('fails with a typed error naming the port instead of starting a doomed process', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evkit-clash-'));
    // The shared stack's PostgreSQL holds its port; this stack folder did not start it.
    const shared = createLocalStack();
    const rival = createLocalStack({ dir, services: ['postgres'], ports: { postgres: shared.config.ports.postgres } });
    try {
      const failure = rival.up();
      await expect(failure).rejects.toBeInstanceOf(StackPortInUseError);
      await expect(failure).rejects.toThrow(`127.0.0.1:${shared.config.ports.postgres} is taken`);
      expect(rival.pidOf('postgres')).toBeUndefined();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
