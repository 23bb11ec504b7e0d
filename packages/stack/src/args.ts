/** `[command, ...flags]` → the command and the broker count, if given. */
export function parseStackArgs(args: readonly string[]): { command: string | undefined; brokers: number | undefined } | undefined {
  let command: string | undefined;
  let brokers: number | undefined;
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i]!;
    const inline = /^--brokers=(.*)$/.exec(arg);
    if (inline || arg === '--brokers') {
      const raw = inline ? inline[1] : args[(i += 1)];
      if (raw === undefined || !/^\d+$/.test(raw)) return undefined;
      brokers = Number(raw);
    } else if (command === undefined && !arg.startsWith('-')) {
      command = arg;
    } else {
      return undefined;
    }
  }
  return { command, brokers };
}
