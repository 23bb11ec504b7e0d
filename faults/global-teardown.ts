import * as fs from 'node:fs';
// Relative, not `@evkit/stack`: Jest's moduleNameMapper does not apply to global teardown.
import { createLocalStack } from '../packages/stack/src';
import { CLUSTER_STACK, QUICK, REPORT_FILE, SINGLE_STACK, TRANSPORT } from './support/env';
import { configuredSecrets, scanLogsForSecrets } from './support/log-secrets';
import { markdownTable, readResults, verdictOf } from './support/report';

/**
 * Prints the run's table, keeps it in .stack/faults/report.md, and stops the fault stacks. Fails
 * the run when a log line of it carries a configured secret.
 */
export default async function faultsTeardown(): Promise<void> {
  const results = readResults();
  const leaks = scanLogsForSecrets(configuredSecrets(), Number(process.env.EVKIT_FAULTS_RUN_STARTED_MS ?? 0));
  const leakReport =
    leaks.length === 0 ? '' : `\n${leaks.length} log line(s) carry a secret:\n${leaks.slice(0, 20).map((l) => `- ${l.file}:${l.line}: ${l.secret}`).join('\n')}\n`;
  if (results.length > 0) {
    const table = markdownTable(results);
    const when = new Date().toISOString();
    // The figures are the client's as much as evkit's: the report says which one ran.
    fs.writeFileSync(REPORT_FILE, `Fault suite ${QUICK ? '(--quick) ' : ''}run of ${when} on ${TRANSPORT} (Node ${process.version})\n\n${table}\n${leakReport}`);
    process.stdout.write(`\n${table}\n\n${results.filter((r) => verdictOf(r) !== 'pass').length} of ${results.length} scenario(s) not passed; table in ${REPORT_FILE}\n`);
  }
  if (process.env.EVKIT_FAULTS_KEEP_STACK !== '1') {
    // These stacks are the suite's own (their own folders and ports); the shared stack is not touched.
    for (const options of [CLUSTER_STACK, SINGLE_STACK]) await createLocalStack(options).down();
  }
  if (leaks.length > 0) throw new Error(`secrets in the fault suite's logs (the lines are not printed):${leakReport}`);
}
