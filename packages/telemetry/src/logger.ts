import type { CloudEventAttributes } from '@evkit/envelope';
import { boundedText } from '@evkit/errors';

export type LogFields = Record<string, string | number | boolean | undefined>;

/** What evkit logs through: bring pino, winston or console by adapting these four methods. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/**
 * Every text field as a log line may carry it: credentials removed, at most 2 KiB. evkit's own
 * call sites bound error text already; this catches whatever else reaches the line.
 */
function safeFields(fields: LogFields | undefined): LogFields | undefined {
  if (fields === undefined) return undefined;
  const safe: LogFields = {};
  for (const [name, value] of Object.entries(fields)) safe[name] = typeof value === 'string' ? boundedText(value) : value;
  return safe;
}

/** One JSON object per line on stderr, at `level` and above; text fields redacted and bounded. */
export function createJsonLogger(level: LogLevel = 'info', write: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Logger {
  const at = (lvl: Exclude<LogLevel, 'silent'>) => (message: string, fields?: LogFields) => {
    if (LEVELS[lvl] < LEVELS[level]) return;
    write(JSON.stringify({ time: new Date().toISOString(), level: lvl, message: boundedText(message), ...safeFields(fields) }));
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A logger that adds `fields` to every line. */
export function childLogger(logger: Logger, fields: LogFields): Logger {
  return {
    debug: (m, f) => logger.debug(m, { ...fields, ...f }),
    info: (m, f) => logger.info(m, { ...fields, ...f }),
    warn: (m, f) => logger.warn(m, { ...fields, ...f }),
    error: (m, f) => logger.error(m, { ...fields, ...f }),
  };
}

/** The fields that tie a log line to an event and its flow. */
export function eventLogFields(event: CloudEventAttributes): LogFields {
  return {
    eventId: event.id,
    eventType: event.type,
    correlationId: event.correlationid,
    causationId: event.causationid,
    traceparent: event.traceparent,
  };
}
