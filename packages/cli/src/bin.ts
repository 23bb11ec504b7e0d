#!/usr/bin/env node
import { run } from './program';

// `run` never throws: every failure is printed with its code and becomes the exit code.
void run(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
