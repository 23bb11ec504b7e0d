import * as fs from 'node:fs';
// Relative, not `@evkit/stack`: Jest's moduleNameMapper does not apply to global teardown.
import { createLocalStack } from '../packages/stack/src';
import { CLUSTER_STACK, QUICK, REPORT_FILE, SINGLE_STACK } from './support/env';
import { markdownTable, readResults, verdictOf } from './support/report';

/** Prints the run's table, keeps it in .stack/faults/report.md, and stops the fault stacks. */
export default async function faultsTeardown(): Promise<void> {
  const results = readResults();
  if (results.length > 0) {
    const table = markdownTable(results);
    const when = new Date().toISOString();
    fs.writeFileSync(REPORT_FILE, `Fault suite ${QUICK ? '(--quick) ' : ''}run of ${when}\n\n${table}\n`);
    process.stdout.write(`\n${table}\n\n${results.filter((r) => verdictOf(r) !== 'pass').length} of ${results.length} scenario(s) not passed; table in ${REPORT_FILE}\n`);
  }
  if (process.env.EVKIT_FAULTS_KEEP_STACK === '1') return;
  // These stacks are the suite's own (their own folders and ports); the shared stack is not touched.
  for (const options of [CLUSTER_STACK, SINGLE_STACK]) await createLocalStack(options).down();
}
