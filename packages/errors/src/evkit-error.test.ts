import { EvkitError, isEvkitError } from './evkit-error';

class ExampleError extends EvkitError {
  readonly code = 'EVKIT_EXAMPLE';
}

describe('EvkitError', () => {
  it('carries a stable code, the subclass name and a cause', () => {
    const cause = new Error('socket closed');
    const error = new ExampleError('could not reach the broker', { cause, retriable: true });
    expect(error.code).toBe('EVKIT_EXAMPLE');
    expect(error.name).toBe('ExampleError');
    expect(error.cause).toBe(cause);
    expect(error.retriable).toBe(true);
    expect(error).toBeInstanceOf(Error);
    expect(isEvkitError(error)).toBe(true);
    expect(isEvkitError(cause)).toBe(false);
  });

  it('is not retriable unless said so, and serialises without the stack', () => {
    const error = new ExampleError('bad input');
    expect(error.retriable).toBe(false);
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      name: 'ExampleError',
      code: 'EVKIT_EXAMPLE',
      message: 'bad input',
      retriable: false,
    });
  });
});
