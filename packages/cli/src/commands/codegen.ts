import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { generateTypeScript } from '../codegen/typescript';
import type { Output } from '../context';
import { CliFindingError } from '../exit-codes';
import { isValid, loadSchemaFiles, schemaError } from '../schemas/schema-files';

const DEFAULT_CODEGEN_OUT = 'src/generated/events.ts';

/** `--out` names a .ts file, or a folder to write events.ts into. */
function codegenTarget(out: string, cwd: string = process.cwd()): string {
  const target = path.resolve(cwd, out);
  return target.endsWith('.ts') ? target : path.join(target, 'events.ts');
}

export function codegenCommand(output: (json: boolean) => Output): Command {
  return new Command('codegen')
    .description('TypeScript types for the event payloads in the schema folder, as the codec decodes them')
    .option('--dir <path>', 'the schema folder', 'schemas')
    .option('--mapping <file>', "the mapping file, for the event type map (default: <dir>/subjects.json when it exists)")
    .option('--out <path>', 'a .ts file, or a folder for events.ts', DEFAULT_CODEGEN_OUT)
    .option('--check', 'write nothing; exit 1 when the file is missing or differs (for CI)')
    .action((flags: { dir: string; mapping?: string; out: string; check?: boolean }) => {
      const out = output(false);
      const { files } = loadSchemaFiles(flags);
      const invalid = files.filter((file) => !isValid(file));
      for (const file of invalid) out.out(`FAIL ${file.display}: ${schemaError(file)}`);
      if (invalid.length > 0) throw new CliFindingError(`${invalid.length} of ${files.length} schema(s) are not valid Avro; nothing generated`);

      const source = path.relative(process.cwd(), path.resolve(flags.dir)).split(path.sep).join('/') || '.';
      const text = generateTypeScript(files.filter(isValid), { source });
      const target = codegenTarget(flags.out);
      const shown = path.relative(process.cwd(), target);
      const current = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : undefined;
      if (flags.check) {
        if (current !== text) throw new CliFindingError(`${shown} is ${current === undefined ? 'missing' : 'out of date'}; run evkit codegen`);
        out.out(`${shown} is up to date`);
      } else if (current === text) {
        out.out(`${shown} unchanged (${files.length} schema(s))`);
      } else {
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, text);
        out.out(`wrote ${shown} (${files.length} schema(s))`);
      }
    });
}
