import { TransportConnectError } from './errors';

/**
 * How a transport reads its client's errors: what went wrong, for a message, and whether trying
 * again may succeed. Each client marks these its own way.
 */
export interface ClientErrorReader {
  messageOf(error: unknown): string;
  isRetriable(error: unknown): boolean;
}

export interface ConnectOnce {
  connect(): Promise<void>;
  /** Forgets the connection made: the next `connect` connects again. */
  reset(): void;
}

/**
 * `connect` made idempotent: calls share one attempt, a failed attempt is forgotten so the next
 * call tries again, and failures become TransportConnectError (`${who} could not connect to
 * Kafka: ...`).
 */
export function connectOnce(connect: () => Promise<unknown>, who: string, errors: ClientErrorReader): ConnectOnce {
  let connecting: Promise<void> | undefined;
  return {
    connect() {
      connecting ??= connect().then(
        () => undefined,
        (error: unknown) => {
          connecting = undefined;
          throw new TransportConnectError(`${who} could not connect to Kafka: ${errors.messageOf(error)}`, { cause: error, retriable: errors.isRetriable(error) });
        },
      );
      return connecting;
    },
    reset() {
      connecting = undefined;
    },
  };
}
