// Jest 29 loads modules through its own CommonJS loader, which cannot run ES modules (Node's
// require(esm) does not reach it). @platformatic/kafka and two of its dependencies ship ES
// modules only, so the platformatic Jest projects compile them to CommonJS with TypeScript's
// transpiler, like ts-jest does for the sources. `import.meta.url` becomes the file's URL; a
// module-level `const require = createRequire(...)` is dropped, CommonJS has its own.
import { createHash } from 'node:crypto';
import ts from 'typescript';

const IMPORT_META_URL = /\bimport\.meta\.url\b/g;
const OWN_REQUIRE = /^const require = createRequire\([^)]*\);?$/gm;

export default {
  process(source, filename) {
    const code = source.replace(OWN_REQUIRE, '').replace(IMPORT_META_URL, "require('node:url').pathToFileURL(__filename).href");
    const { outputText } = ts.transpileModule(code, {
      fileName: filename,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, sourceMap: false },
    });
    return { code: outputText };
  },
  getCacheKey(source, filename) {
    return createHash('sha256').update(`${ts.version}\0${filename}\0${source}`).digest('hex');
  },
};
