import { EvkitError } from './evkit-error';
import { isBoolean, isNonEmptyString, isObject, isOneOf, isWholeNumber, optionProblem, validateOptions, type OptionRules } from './option-rules';

class ToolConfigError extends EvkitError {
  readonly code = 'EVKIT_TEST_INVALID_OPTIONS';
}

const NESTED: OptionRules = { intervalMs: { check: isWholeNumber(1, 1000) } };
const RULES: OptionRules = {
  name: { required: true, check: isNonEmptyString },
  mode: { check: isOneOf('fast', 'safe') },
  verbose: { check: isBoolean },
  nested: { check: (v) => isObject(v) ?? optionProblem('nested', v, NESTED) },
};

describe('option rules', () => {
  it.each([
    [undefined, 'createTool options are required (an object)'],
    [[], 'createTool options are required (an object)'],
    [{}, 'createTool: name is required'],
    [{ name: '' }, 'createTool: name must be a non-empty string'],
    [{ name: 'a', mode: 'reckless' }, 'createTool: mode must be one of fast, safe'],
    [{ name: 'a', verbose: 'yes' }, 'createTool: verbose must be a boolean'],
    [{ name: 'a', nested: 5 }, 'createTool: nested must be an object'],
    [{ name: 'a', nested: { intervalMs: 0.5 } }, 'nested: intervalMs must be a whole number from 1 to 1000'],
  ])('names the first problem of %j', (options, problem) => {
    expect(optionProblem('createTool', options, RULES)).toBe(problem);
    expect(() => validateOptions('createTool', options, RULES, (p) => new ToolConfigError(p))).toThrow(new ToolConfigError(problem));
  });

  it('accepts what the table allows, leaving out what is optional', () => {
    expect(optionProblem('createTool', { name: 'a' }, RULES)).toBeUndefined();
    expect(optionProblem('createTool', { name: 'a', mode: 'safe', verbose: false, nested: { intervalMs: 1000 } }, RULES)).toBeUndefined();
  });
});
