import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { Admin } from '@platformatic/kafka';
import { createLocalStack } from '@evkit/stack';
import type { PartitionBatch } from '@evkit/transport';
import { createPlatformaticPublisher, createPlatformaticSubscriber, createTopicsAndWait } from '@evkit/transport-platformatic';

// F4 (docs/reliability.md): after a member dies, the classic group protocol waits out its
// session before anyone gets its partitions. With static membership a member restarted under
// the same groupInstanceId takes them back at once. The member to kill runs in a process of its
// own (fixtures/static-member.js) and is killed with SIGKILL: no LeaveGroup, as a crash.

const { endpoints } = createLocalStack();
const brokers = endpoints.kafkaBrokers;
const SESSION_TIMEOUT_MS = 30_000;

function startMember(topic: string, groupId: string, instanceId: string): { child: ChildProcess; handled: Promise<void> } {
  const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'static-member.js'), brokers.join(','), topic, groupId, instanceId], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const handled = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('handled')) resolve();
    });
    child.on('exit', (code, signal) => reject(new Error(`member exited (${code ?? signal}) before handling a batch: ${stderr}`)));
  });
  return { child, handled };
}

describe('@platformatic/kafka static membership', () => {
  it(`gives a member restarted under its groupInstanceId its partitions back well within the dead one's ${SESSION_TIMEOUT_MS / 1000} s session`, async () => {
    const admin = new Admin({ clientId: 'evkit-it-static', bootstrapBrokers: brokers });
    const topic = `evkit.it.static.${randomUUID()}`;
    const groupId = `evkit-it-static-${randomUUID()}`;
    const publisher = createPlatformaticPublisher({ brokers, clientId: 'evkit-it-static' });
    const member = startMember(topic, groupId, 'orders-0');
    try {
      await createTopicsAndWait(admin, [{ topic, partitions: 2 }]);
      // Ten keys: murmur2 puts them on both partitions.
      const records = Array.from({ length: 10 }, (_, i) => ({ topic, key: Buffer.from(`k${i}`), value: Buffer.from('v'), headers: {} }));
      await publisher.send(records);
      await member.handled;
      member.child.kill('SIGKILL');
      await new Promise((resolve) => member.child.once('exit', resolve));

      const killedAt = Date.now();
      const seen = new Set<number>();
      let bothBack: () => void = () => undefined;
      const back = new Promise<void>((resolve) => (bothBack = resolve));
      const restarted = createPlatformaticSubscriber({
        brokers,
        clientId: 'evkit-it-static',
        groupInstanceId: 'orders-0',
        sessionTimeout: SESSION_TIMEOUT_MS,
        rebalanceTimeout: SESSION_TIMEOUT_MS,
        heartbeatInterval: 1_000,
        maxWaitTimeInMs: 100,
      });
      try {
        await restarted.run({
          groupId,
          topics: [topic],
          fromBeginning: true,
          handleBatch: async (batch: PartitionBatch) => {
            seen.add(batch.partition);
            if (seen.size === 2) bothBack();
          },
        });
        await publisher.send(records);
        await back;
        // Both partitions, so the restarted member has the dead one's whole assignment, without a rebalance that waited for it.
        expect([...seen].sort()).toEqual([0, 1]);
        expect(Date.now() - killedAt).toBeLessThan(SESSION_TIMEOUT_MS / 2);
      } finally {
        await restarted.disconnect();
      }
    } finally {
      member.child.kill('SIGKILL');
      await publisher.disconnect();
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.close();
    }
  }, 60_000);
});
