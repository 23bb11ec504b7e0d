import * as path from 'node:path';
import { run } from '../packages/cli/src/program';

// The generated catalogues in this repository are `evkit codegen` output of schemas/: a schema
// added without regenerating them fails here, as `evkit codegen --check` fails a service's CI.
describe('generated catalogues', () => {
  const root = path.resolve(__dirname, '..');
  it.each(['examples/quickstart/generated/events.ts', 'packages/demo/src/generated/events.ts'])('%s is up to date with schemas/', async (file) => {
    const cwd = process.cwd();
    process.chdir(root);
    try {
      expect(await run(['codegen', '--check', '--out', file])).toBe(0);
    } finally {
      process.chdir(cwd);
    }
  });
});
