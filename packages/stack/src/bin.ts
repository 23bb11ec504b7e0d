#!/usr/bin/env node
import { runStackCli } from './cli';

void runStackCli(process.argv.slice(2), {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
}).then((code) => {
  process.exitCode = code;
});
