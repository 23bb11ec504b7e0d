import * as fs from 'node:fs';
import { FAULTS_DIR, RESULTS_FILE } from './support/env';

/** A run starts with an empty results file; the stacks start in the scenario files, when needed. */
export default function faultsSetup(): void {
  fs.mkdirSync(FAULTS_DIR, { recursive: true });
  fs.writeFileSync(RESULTS_FILE, '');
  // The teardown scans the logs written from here on for secrets (same process as the teardown).
  process.env.EVKIT_FAULTS_RUN_STARTED_MS = String(Date.now());
}
