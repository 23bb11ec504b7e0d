// Scenario files run one at a time in the order of their names (01-..., 02-...), so a run reads
// like the table in docs/reliability.md and the stacks are started once.
import TestSequencer from '@jest/test-sequencer';

// A CommonJS module with an ES default export: imported from ESM, the class is under .default.
const Base = TestSequencer.default ?? TestSequencer;

export default class ByName extends Base {
  sort(tests) {
    return [...tests].sort((a, b) => a.path.localeCompare(b.path));
  }
}
