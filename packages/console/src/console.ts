import { createConsoleData } from './data';
import { resolveOptions, type ConsoleOptions } from './options';
import { createConsoleServer } from './server';

export interface EvkitConsole {
  /** Listens; resolves with the page's URL (no token in it). */
  start(): Promise<string>;
  /** Stops listening and sampling, and closes the Kafka connections. */
  close(): Promise<void>;
}


export function createConsole(options: ConsoleOptions): EvkitConsole {
  const resolved = resolveOptions(options);
  const data = createConsoleData(resolved);
  const server = createConsoleServer(resolved, data);
  let timer: NodeJS.Timeout | undefined;
  let sampling: Promise<void> | undefined;
  const sample = () => {
    // One sample at a time: a slow cluster must not pile them up.
    sampling ??= data.sampleLag().finally(() => (sampling = undefined));
  };
  return {
    async start() {
      const url = await server.listen();
      sample();
      // In the background, so the chart has a history when the page opens it.
      timer = setInterval(sample, resolved.lagSampleMs);
      timer.unref();
      return url;
    },
    async close() {
      clearInterval(timer);
      await server.close();
      await sampling;
      await data.close();
    },
  };
}
