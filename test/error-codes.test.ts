import * as fs from 'node:fs';
import * as path from 'node:path';

// The documented error codes and the codes in the source must be the same set, with the same
// class names: users branch on these codes, so the docs are part of the contract.
const root = path.resolve(__dirname, '..');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

function codesInSource(): Map<string, string> {
  const codes = new Map<string, string>();
  for (const pkg of fs.readdirSync(path.join(root, 'packages'))) {
    const src = path.join(root, 'packages', pkg, 'src');
    if (!fs.existsSync(src)) continue;
    for (const file of sourceFiles(src)) {
      const text = fs.readFileSync(file, 'utf8');
      for (const match of text.matchAll(/class (\w+) extends \w*Error \{\s*(?:override )?readonly code = '(EVKIT_[A-Z0-9_]+)'/g)) {
        const [, className, code] = match;
        if (codes.has(code!)) throw new Error(`${code} is declared twice (${codes.get(code!)} and ${className})`);
        codes.set(code!, className!);
      }
    }
  }
  return codes;
}

function codesInDocs(): Map<string, string> {
  const doc = fs.readFileSync(path.join(root, 'docs', 'error-codes.md'), 'utf8');
  const codes = new Map<string, string>();
  for (const match of doc.matchAll(/^\| `(EVKIT_[A-Z0-9_]+)` \| [^|]+ \| `(\w+)` \|/gm)) codes.set(match[1]!, match[2]!);
  return codes;
}

describe('docs/error-codes.md', () => {
  it('lists exactly the error codes the packages declare, with their classes', () => {
    const source = codesInSource();
    expect(source.size).toBeGreaterThan(0);
    expect(Object.fromEntries(codesInDocs())).toEqual(Object.fromEntries(source));
  });
});
