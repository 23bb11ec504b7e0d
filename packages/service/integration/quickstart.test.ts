import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { Client } from 'pg';
import { createLocalStack } from '@evkit/stack';

// The README's quickstart, run the way a user runs it (a process of its own, through ts-node),
// against the real stack; then its effects are read back from PostgreSQL.
const root = path.resolve(__dirname, '../../..');
const { endpoints } = createLocalStack();

function runQuickstart(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register', path.join(root, 'examples/quickstart/service.ts')], {
      cwd: root,
      env: {
        ...process.env,
        TS_NODE_TRANSPILE_ONLY: 'true',
        TS_NODE_PROJECT: path.join(root, 'examples/quickstart/tsconfig.json'),
        EVKIT_KAFKA_BROKERS: endpoints.kafkaBrokers.join(','),
        EVKIT_REGISTRY_URL: endpoints.registryUrl,
        EVKIT_PG_URL: endpoints.postgresUrl,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the README quickstart', () => {
  it('writes through the outbox, publishes directly, bills each event once, and exits cleanly', async () => {
    const { code, stdout, stderr } = await runQuickstart();
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' }); // no warning or error line on a healthy run
    const orderId = /^billed: placed (\S+), cancelled \1$/m.exec(stdout)?.[1];
    expect(orderId).toBeDefined();
    const db = new Client({ connectionString: endpoints.postgresUrl });
    await db.connect();
    try {
      const invoice = await db.query('SELECT cents, status FROM invoices WHERE order_id = $1', [orderId]);
      expect(invoice.rows).toEqual([{ cents: '4200', status: 'CUSTOMER_REQUEST' }]);
    } finally {
      await db.end();
    }
  }, 120_000);
});
