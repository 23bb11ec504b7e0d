import { createLocalStack, ensureDebianPackages } from '@evkit/stack';

/** Starts whatever part of the local stack is not running; a warm stack costs well under a second. */
export default async function integrationSetup(): Promise<void> {
  const started = Date.now();
  await createLocalStack({ log: (line) => process.stdout.write(`  [stack] ${line}\n`) }).up();
  // docker/docker-compose.yml is validated by Debian's docker-compose, which needs no engine.
  ensureDebianPackages([{ command: 'docker-compose', pkg: 'docker-compose' }]);
  process.stdout.write(`  [stack] ready in ${Date.now() - started} ms\n`);
}
