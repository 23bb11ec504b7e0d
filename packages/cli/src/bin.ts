#!/usr/bin/env node
import { describeError } from './exit-codes';
import { run } from './program';

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`evkit: ${describeError(error)}\n`);
    process.exit(2);
  },
);
