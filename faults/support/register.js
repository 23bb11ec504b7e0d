// Lets a child process (a consumer the suite kills or pauses) run the TypeScript sources, as Jest
// does: `@evkit/x` resolves to packages/x/src, each file compiled on load by TypeScript's
// transpileModule (no type checking: `npm run typecheck` does that).
// Usage: node --enable-source-maps -r ./faults/support/register.js script.ts
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS preload (node -r) is what Node loads before the script */
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');
const ts = require('typescript');

const root = path.resolve(__dirname, '..', '..');
const compilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.CommonJS,
  esModuleInterop: true,
  inlineSourceMap: true,
  inlineSources: true,
};

require.extensions['.ts'] = function compileTypeScript(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const { outputText } = ts.transpileModule(source, { fileName: filename, compilerOptions });
  module._compile(outputText, filename);
};

const resolve = Module._resolveFilename;
Module._resolveFilename = function resolveEvkit(request, ...rest) {
  const match = /^@evkit\/([a-z-]+)$/.exec(request);
  return resolve.call(this, match ? path.join(root, 'packages', match[1], 'src', 'index.ts') : request, ...rest);
};
