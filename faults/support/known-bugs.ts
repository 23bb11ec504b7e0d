// Scenarios that fail because of a bug found by this suite and reported, not yet fixed. A known
// bug turns the matching failures of that scenario into "known bug" in the table instead of a
// failed run; any other failure still fails. Delete the entry with the fix: the scenario must
// then pass.

export interface KnownBug {
  scenario: string;
  summary: string;
  /** Which failure messages this bug explains. */
  explains: (failure: string) => boolean;
}

const lostAcknowledged = (failure: string) => /acknowledged event\(s\) lost/.test(failure);

export const KNOWN_BUGS: readonly KnownBug[] = [
  {
    scenario: '1b',
    summary: 'evkit-B1 (see 2a): the produce request in flight to the killed leader fails, and the next concurrent send reuses its sequence on the new leader',
    explains: lostAcknowledged,
  },
  {
    scenario: '2a',
    summary:
      'evkit-B1: a publish acknowledged at an offset that holds another event (KafkaJS reuses the idempotent sequence of a timed-out produce request for the next concurrent send; see docs/reliability.md)',
    explains: lostAcknowledged,
  },
  {
    scenario: '2b',
    summary: 'evkit-B1 (as 2a), on the three-node cluster',
    explains: lostAcknowledged,
  },
  {
    scenario: '9b',
    summary:
      'evkit-B2: a record larger than the dead-letter topic accepts can never be dead-lettered; the retriable FailureRoutingError stalls its partition for good (see docs/reliability.md)',
    explains: (failure) => failure.includes('oversized') || failure.includes('still unhandled when the drain window closed'),
  },
];

/** The known bug that explains every failure, if there is one. */
export function knownBugFor(scenario: string, failures: readonly string[]): KnownBug | undefined {
  const bug = KNOWN_BUGS.find((b) => b.scenario === scenario);
  return bug && failures.length > 0 && failures.every((f) => bug.explains(f)) ? bug : undefined;
}
