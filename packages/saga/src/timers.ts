// The timer poller: rounds of `fire` in the background, like the outbox's polling relay. A full
// round goes on at once; otherwise it pauses `intervalMs`. Several processes may each run one:
// firing a timer locks its saga row (SKIP LOCKED), so a timer fires once.

export interface TimerPoller {
  start(): void;
  /** Stops after the round in flight. */
  stop(): Promise<void>;
}

export function createTimerPoller(options: { fire: () => Promise<number>; intervalMs: number; onError: (error: unknown) => void }): TimerPoller {
  const { fire, intervalMs, onError } = options;
  let running = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  const pause = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, intervalMs);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  const run = async () => {
    while (running) {
      let fired = 0;
      try {
        fired = await fire();
      } catch (error) {
        onError(error);
      }
      if (running && fired === 0) await pause();
    }
  };
  return {
    start() {
      if (running) return;
      running = true;
      loop = run();
    },
    async stop() {
      running = false;
      wake?.();
      await loop;
      loop = undefined;
    },
  };
}
