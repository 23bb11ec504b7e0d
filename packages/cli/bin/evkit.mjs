#!/usr/bin/env node
// The `evkit` bin. npm links a bin only when its file exists at install time, and in the evkit
// repository dist/ is built after `npm ci`: a bin in dist/ would not be linked there, and
// `npx evkit` would fail. This file is in the source, so it is always linked.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/bin.js', import.meta.url);
if (existsSync(entry)) {
  await import(entry.href);
} else {
  process.stderr.write(`evkit: ${fileURLToPath(entry)} is not built yet; run \`npm run build\` first\n`);
  process.exitCode = 2;
}
