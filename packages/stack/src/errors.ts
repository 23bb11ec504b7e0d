import { EvkitError } from '@evkit/errors';

/** A stack setting (port, folder) from the options or the environment is not usable. */
export class StackConfigError extends EvkitError {
  readonly code = 'EVKIT_STACK_CONFIG_INVALID';
}

/** A tool the stack needs (java, mvn, PostgreSQL binaries) is missing and could not be installed. */
export class StackPrerequisiteError extends EvkitError {
  readonly code = 'EVKIT_STACK_PREREQUISITE_MISSING';
}

/** A command the stack runs (mvn, initdb, pg_ctl, Kafka's storage tool) failed. */
export class StackCommandError extends EvkitError {
  readonly code = 'EVKIT_STACK_COMMAND_FAILED';
}

/** A service did not become healthy in time; the message carries the tail of its log. */
export class StackServiceUnhealthyError extends EvkitError {
  readonly code = 'EVKIT_STACK_SERVICE_UNHEALTHY';
}

/** A port the stack wants is taken by a process this stack folder did not start. */
export class StackPortInUseError extends EvkitError {
  readonly code = 'EVKIT_STACK_PORT_IN_USE';
}
