export { EvkitError, isEvkitError } from './evkit-error';
export type { EvkitErrorOptions } from './evkit-error';
