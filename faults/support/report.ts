import * as fs from 'node:fs';
import { RESULTS_FILE } from './env';
import type { Figures } from './checker';

// The run's figures as the table docs/reliability.md carries.

export function readResults(file = RESULTS_FILE): (Figures & { at: string })[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Figures & { at: string });
}

const seconds = (ms: number | null) => (ms === null ? '–' : `${(ms / 1000).toFixed(1)} s`);

export function verdictOf(f: Figures): string {
  if (f.failures.length === 0) return 'pass';
  return f.knownBug ? 'known bug' : 'FAIL';
}

export function markdownTable(results: readonly Figures[]): string {
  const header =
    '| # | Scenario | Events acked | Send failures | Lost | Duplicate effects | Duplicates absorbed | Order violations | Unseen | Dead-lettered | Recovery | Longest stall | Result |\n' +
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |';
  const rows = results.map(
    (f) =>
      `| ${f.scenario} | ${f.title} | ${f.events} | ${f.sendFailures}${f.unknownOutcome ? ` (${f.unknownOutcome.sends} unknown outcome, ${f.unknownOutcome.events} events exposed)` : ''} | ${f.lost} | ${f.duplicateEffects} | ${f.absorbed} | ${f.orderViolations}${f.orderPromised ? '' : ' (n/a)'} | ${f.unseen} | ${f.deadLettered} | ${seconds(f.recoveryMs)} | ${seconds(f.longestStallMs)} | ${verdictOf(f)} |`,
  );
  return [header, ...rows].join('\n');
}
