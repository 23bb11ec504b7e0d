// Scenarios that fail because of a bug found by this suite and reported, not yet fixed. A known
// bug turns the matching failures of that scenario into "known bug" in the table instead of a
// failed run; any other failure still fails. Delete the entry with the fix: the scenario must
// then pass. A bug of one Kafka client names it: under --transport with the other, the scenario
// must pass.

import type { KafkaClientName } from '@evkit/transport';
import { TRANSPORT } from './env';

export interface KnownBug {
  scenario: string;
  summary: string;
  /** The clients it shows on (a bug of the client, or of evkit's transport for it); every client when left out. */
  transports?: readonly KafkaClientName[];
  /** Which failure messages this bug explains. */
  explains: (failure: string) => boolean;
}

export const KNOWN_BUGS: readonly KnownBug[] = [];

/** The known bug that explains every failure on this run's client, if there is one. */
export function knownBugFor(scenario: string, failures: readonly string[]): KnownBug | undefined {
  const bug = KNOWN_BUGS.find((b) => b.scenario === scenario && (b.transports?.includes(TRANSPORT) ?? true));
  return bug && failures.length > 0 && failures.every((f) => bug.explains(f)) ? bug : undefined;
}
