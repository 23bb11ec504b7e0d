import { createLocalStack } from '@evkit/stack';
import type { Endpoints } from './protocol';

export interface StackInfo {
  endpoints: Endpoints;
  /** The stack folder: the Kafka jars the Java tools run from are in lib/kafka. */
  dir: string;
  connectUrl: string;
}

/** Whether every service of the local stack answers. */
export async function stackHealthy(): Promise<boolean> {
  return (await createLocalStack().status()).every((service) => service.healthy);
}

/**
 * The local stack's endpoints, after starting whatever is not running (a no-op when all is
 * healthy). The stack is shared: the benchmarks start it when needed and never stop it.
 */
export async function ensureStack(log: (line: string) => void): Promise<StackInfo> {
  const stack = createLocalStack({ log: (line) => log(`stack: ${line}`) });
  if (!(await stackHealthy())) {
    log('starting the local stack (createLocalStack().up())');
    await stack.up();
  }
  const { kafkaBrokers, registryUrl, postgresUrl, connectUrl } = stack.endpoints;
  return { endpoints: { brokers: kafkaBrokers, registryUrl, postgresUrl }, dir: stack.config.dir, connectUrl };
}
