#!/usr/bin/env node
import { runConnectCli } from './cli';

void runConnectCli(process.argv.slice(2), {
  env: process.env,
  out: (line) => console.log(line),
  err: (line) => console.error(line),
}).then((code) => {
  process.exitCode = code;
});
