import * as fs from 'node:fs';
import * as path from 'node:path';

// The README's quickstart is the file the integration suite runs (packages/service/integration):
// this keeps the copy in the README identical to it.
describe('README quickstart', () => {
  it('shows examples/quickstart/service.ts exactly', () => {
    const root = path.resolve(__dirname, '..');
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const shown = /<!-- quickstart:start -->\n```ts\n([\s\S]*?)```\n<!-- quickstart:end -->/.exec(readme)?.[1];
    expect(shown).toBe(fs.readFileSync(path.join(root, 'examples/quickstart/service.ts'), 'utf8'));
    expect(shown!.split('\n').length - 1).toBeLessThanOrEqual(60);
  });
});
