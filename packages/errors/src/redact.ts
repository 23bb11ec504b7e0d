// The one place credentials are removed from text evkit writes: log lines, dead-letter headers,
// CLI output. Every quantifier is bounded or anchored on a rare token, so the patterns run in
// linear time on hostile input, and long text is cut before it is scanned.

/** Error text in a log line or header: 2 KiB, so a 1 MiB attribute never makes a 1 MB log line. */
export const ERROR_TEXT_LIMIT = 2048;
/** Error text a person reads on a terminal (a CLI's last line): longer, but still bounded. */
export const TERMINAL_TEXT_LIMIT = 16 * 1024;

const MASK = '***';
// Text beyond this is cut before redaction: the patterns stay cheap and what is cut never shows.
const SCAN_LIMIT = 64 * 1024;

// `scheme://user:password@host`, also an empty user and a password holding `@` (the last `@`
// before the path ends the user info).
const URL_USER_INFO = /\b([a-z][a-z0-9+.-]{0,30}:\/\/)[^\s/?#]{0,256}@/gi;
// `user:password@host` without a scheme, e.g. `svc:pw@10.0.0.5:5432`; not inside a path or URL.
const BARE_USER_INFO = /(?<![^\s"'(=,;<[])[^\s:/@"'(]{1,64}:(?!\/)[^\s"']{1,256}@(?=[\w[])/g;
// `Authorization: Basic …`, `authorization=Bearer …`, as a header, a JSON key or a log field.
const AUTHORIZATION = /\b((?:proxy-)?authorization["']?\s{0,8}[:=]\s{0,8}["']?)(?:(basic|bearer|digest|token|negotiate)\s{1,8})?[^\s,;"']+/gi;
const BEARER = /\b(bearer)\s{1,8}[\w.~+/-]+=*/gi;
// `password=…`, `PGPASSWORD=…`, `DB_PASSWORD: …`, `"password":"…"`, `?api_key=…&`: a name that
// ends in a secret word (any prefix), then `=` or `:`, then the value, quoted or up to a separator.
const KEY_VALUE =
  /(pass(?:word|wd|phrase)?|pwd|secret|token|credentials?|(?:api|access|private|secret|signing)[_-]?key|apikey)(["']?\s{0,8}[=:]\s{0,8})("[^"\n]{0,1024}"|'[^'\n]{0,1024}'|[^\s,;&"']+)/gi;

const quoted = (value: string) => (value.startsWith('"') ? `"${MASK}"` : value.startsWith("'") ? `'${MASK}'` : MASK);

/** Removes credentials from text bound for a log line, a header or a terminal. */
export function redactSecrets(text: string): string {
  const scanned = text.length > SCAN_LIMIT ? text.slice(0, SCAN_LIMIT) : text;
  return scanned
    .replace(URL_USER_INFO, `$1${MASK}:${MASK}@`)
    .replace(BARE_USER_INFO, `${MASK}:${MASK}@`)
    .replace(AUTHORIZATION, (_all, name: string, scheme: string | undefined) => `${name}${scheme === undefined ? '' : `${scheme} `}${MASK}`)
    .replace(BEARER, `$1 ${MASK}`)
    .replace(KEY_VALUE, (_all, name: string, separator: string, value: string) => `${name}${separator}${quoted(value)}`);
}

/**
 * An endpoint as it may be printed: the URL's password masked (the user kept, so the line still
 * says who connects), and secret query parameters masked.
 */
export function redactUrl(url: string): string {
  return url
    .replace(/^([a-z][a-z0-9+.-]{0,30}:\/\/[^\s/?#@:]*):[^\s/?#]{0,256}@/i, `$1:${MASK}@`)
    .replace(KEY_VALUE, (_all, name: string, separator: string, value: string) => `${name}${separator}${quoted(value)}`);
}

/** Cuts text to `limit` characters, saying how much was left out. */
export function truncate(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit)}… (${text.length - limit} more characters)`;
}

/**
 * The raw text of anything thrown: an Error's message (an AggregateError's inner messages when
 * its own is empty, as Node's connection errors are), else JSON or String.
 */
export function errorMessageOf(error: unknown): string {
  if (error instanceof AggregateError && error.message === '') return error.errors.map(errorMessageOf).join('; ');
  if (error instanceof Error) return error.message || (error as NodeJS.ErrnoException).code || error.name;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error); // a cycle or a BigInt: String never throws on a plain value
  }
}

/** What a log line or header says about a failure: its message, credentials removed, at most `limit` characters. */
export function boundedErrorText(error: unknown, limit: number = ERROR_TEXT_LIMIT): string {
  return boundedText(errorMessageOf(error), limit);
}

/** Any text bound for a log line or header: credentials removed, at most `limit` characters. */
export function boundedText(text: string, limit: number = ERROR_TEXT_LIMIT): string {
  // Length first: the note on what was cut counts the original text.
  const redacted = redactSecrets(text);
  return text.length > SCAN_LIMIT ? `${redacted.slice(0, limit)}… (${text.length - limit} more characters)` : truncate(redacted, limit);
}

/**
 * A tool's last line about a failure: an evkit error as `code: message`, anything else with its
 * stack (a bug to report); redacted and bounded either way.
 */
export function terminalErrorText(error: unknown): string {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  if (error instanceof Error && typeof code === 'string' && code.startsWith('EVKIT_')) return `${code}: ${boundedErrorText(error, TERMINAL_TEXT_LIMIT)}`;
  return boundedText(error instanceof Error ? (error.stack ?? error.message) : errorMessageOf(error), TERMINAL_TEXT_LIMIT);
}
