#!/usr/bin/env node
import { run } from './program';

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`evkit: ${String(error)}\n`);
    process.exit(2);
  },
);
