import { EvkitError } from '@evkit/errors';

/** The console's options are unusable (a bad port, a non-loopback host without a token); the message names the option. */
export class ConsoleConfigError extends EvkitError {
  readonly code = 'EVKIT_CONSOLE_INVALID_OPTIONS';
}

/** The console could not listen (the port is taken, the address is not this machine's). */
export class ConsoleListenError extends EvkitError {
  readonly code = 'EVKIT_CONSOLE_LISTEN_FAILED';
}
