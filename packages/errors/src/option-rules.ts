// Options validated declaratively at the edge: a factory lists its options in a table (each with
// whether it is required and what it must be) and gets one error naming the first problem. The
// checks every factory needs live here, so they read the same everywhere.

/** What a value must be, as a phrase ("a non-empty string"), or undefined when it is fine. */
export type OptionCheck = (value: unknown) => string | undefined;

export type OptionRules = Readonly<Record<string, { required?: boolean; check: OptionCheck }>>;

export const isNonEmptyString: OptionCheck = (v) => (typeof v === 'string' && v.length > 0 ? undefined : 'a non-empty string');
export const isObject: OptionCheck = (v) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? undefined : 'an object');
export const isBoolean: OptionCheck = (v) => (typeof v === 'boolean' ? undefined : 'a boolean');
export const isOneOf =
  (...allowed: string[]): OptionCheck =>
  (v) =>
    typeof v === 'string' && allowed.includes(v) ? undefined : `one of ${allowed.join(', ')}`;
export const isWholeNumber =
  (min: number, max: number): OptionCheck =>
  (v) =>
    Number.isInteger(v) && (v as number) >= min && (v as number) <= max ? undefined : `a whole number from ${min} to ${max}`;

/**
 * The first problem of `options` under `rules`, as a sentence (`createX: name must be ...`), or
 * undefined. A check may return a whole sentence of its own (a nested table's problem).
 */
export function optionProblem(what: string, options: unknown, rules: OptionRules): string | undefined {
  if (isObject(options) !== undefined) return `${what} options are required (an object)`;
  for (const [name, rule] of Object.entries(rules)) {
    const value = (options as Record<string, unknown>)[name];
    if (value === undefined) {
      if (rule.required) return `${what}: ${name} is required`;
      continue;
    }
    const problem = rule.check(value);
    if (problem) return problem.includes(': ') ? problem : `${what}: ${name} must be ${problem}`;
  }
  return undefined;
}

/** Throws `error(problem)`, the factory's own typed error, for the first problem of `options`. */
export function validateOptions(what: string, options: unknown, rules: OptionRules, error: (problem: string) => Error): void {
  const problem = optionProblem(what, options, rules);
  if (problem !== undefined) throw error(problem);
}
