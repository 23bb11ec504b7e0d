import * as fs from 'node:fs';
import * as path from 'node:path';
// Relative, not `@evkit/stack`: this runs in the global teardown, where Jest maps no modules.
import { resolveStackConfig, stackEndpoints } from '../../packages/stack/src';
import { MEMBER_LOG_DIR, SINGLE_STACK } from './env';

// No log line of a run may carry a configured secret: the members' and producers' logs are
// scanned at the end of the run, which fails if one turns up.

export interface Secret {
  /** How a finding names it; never the secret itself. */
  name: string;
  pattern: RegExp;
}

export interface SecretFinding {
  file: string;
  line: number;
  secret: string;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A secret that is also an ordinary word of the run (the stack's password is `evkit`, like its
 * user, database and topic prefix) is looked for only where it would be a credential: URL user
 * info, `password=…`, `PGPASSWORD=…`, `"password":"…"`. Any other secret is looked for anywhere.
 */
export function secretPattern(secret: string, plainWord: boolean): RegExp {
  const value = escape(secret);
  if (!plainWord) return new RegExp(value);
  return new RegExp(`:${value}@|(?:pass(?:word|wd)?|pwd|secret)["']?\\s*[=:]\\s*["']?${value}(?![\\w-])`, 'i');
}

/** The fault stack's PostgreSQL password, and any secret in EVKIT_FAULTS_SECRETS (comma separated). */
export function configuredSecrets(env: NodeJS.ProcessEnv = process.env): Secret[] {
  const postgresUrl = new URL(stackEndpoints(resolveStackConfig(SINGLE_STACK, env), env).postgresUrl);
  const secrets: Secret[] = [];
  const password = decodeURIComponent(postgresUrl.password);
  if (password !== '') {
    const plainWord = /^[A-Za-z]{1,12}$/.test(password);
    secrets.push({ name: `the fault stack's PostgreSQL password${plainWord ? ' (as a credential)' : ''}`, pattern: secretPattern(password, plainWord) });
  }
  for (const [i, extra] of (env.EVKIT_FAULTS_SECRETS ?? '').split(',').map((s) => s.trim()).filter(Boolean).entries()) {
    secrets.push({ name: `EVKIT_FAULTS_SECRETS[${i}]`, pattern: secretPattern(extra, false) });
  }
  return secrets;
}

/** Every line of every log file in `dir` written since `sinceMs` that carries one of `secrets`. */
export function scanLogsForSecrets(secrets: readonly Secret[], sinceMs: number, dir = MEMBER_LOG_DIR): SecretFinding[] {
  if (secrets.length === 0 || !fs.existsSync(dir)) return [];
  const findings: SecretFinding[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (!entry.isFile() || fs.statSync(file).mtimeMs < sinceMs) continue;
    fs.readFileSync(file, 'utf8')
      .split('\n')
      .forEach((text, index) => {
        for (const secret of secrets) if (secret.pattern.test(text)) findings.push({ file, line: index + 1, secret: secret.name });
      });
  }
  return findings;
}
