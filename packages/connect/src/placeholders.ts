// `${NAME}` and `${NAME:-default}` with NAME in upper case, as in a shell. Upper case only, so
// that what is not ours passes through untouched: Debezium's `${routedByValue}`, and Connect's
// own config providers (`${env:VAR}`, `${file:/path:key}`), which resolve on the worker. `$${`
// writes a literal `${`. Written here rather than taken from dotenv-expand or
// string-env-interpolation: both turn a missing variable into an empty string, and a connector
// then starts with an empty host or password instead of failing with the variable's name.
const PLACEHOLDER = /\$(\$?)\{([A-Z_][A-Z0-9_]*)(?::-([^}]*))?\}/g;

/** A variable name or a config key that holds a secret: its value is masked in every message. */
const SECRET_VARIABLE = /PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL|PRIVATE_KEY|API_KEY/;
const SECRET_KEY = /password|passwd|secret|token|credential|jaas|private\.key|api\.key/i;

export interface Substituted {
  text: string;
  /** Variables without a value or default, each once. */
  missing: string[];
  /** Values taken from variables whose names say they are secret. */
  secrets: string[];
}

/** Replaces the placeholders in `text` from `env`; an empty variable counts as unset for `:-`, as in POSIX sh. */
export function substitutePlaceholders(text: string, env: Readonly<Record<string, string | undefined>>): Substituted {
  const missing: string[] = [];
  const secrets: string[] = [];
  const result = text.replace(PLACEHOLDER, (whole: string, escaped: string, name: string, fallback: string | undefined) => {
    if (escaped) return whole.slice(1);
    const value = env[name];
    const resolved = fallback !== undefined && (value === undefined || value === '') ? fallback : value;
    if (resolved === undefined) {
      if (!missing.includes(name)) missing.push(name);
      return whole;
    }
    if (SECRET_VARIABLE.test(name) && resolved.length > 0) secrets.push(resolved);
    return resolved;
  });
  return { text: result, missing, secrets };
}

/** Whether a config key's value is a secret whatever its source. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** `text` with every secret replaced by `***`, longest first so that none is left half shown. */
export function redact(text: string, secrets: readonly string[]): string {
  return [...secrets].sort((a, b) => b.length - a.length).reduce((masked, secret) => masked.split(secret).join('***'), text);
}
