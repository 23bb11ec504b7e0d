import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { configuredSecrets, scanLogsForSecrets } from '../faults/support/log-secrets';

// The fault suite's teardown fails the run when a log line carries a configured secret; this is
// the scan it runs, on log files made up here.
describe('fault suite log scan for secrets', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evkit-log-secrets-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, lines: string[]) => fs.writeFileSync(path.join(dir, name), `${lines.join('\n')}\n`);

  it('finds the stack password where it is a credential, not where it is the user, database or a topic name', () => {
    const secrets = configuredSecrets({ EVKIT_FAULTS_SECRETS: 'canary-7f3a9c' });
    write('s1.m1.log', [
      '{"message":"started","group":"evkit-faults","db":"postgres://evkit:***@127.0.0.1:35432/evkit"}',
      '{"message":"failed","error":"connect postgres://evkit:evkit@127.0.0.1:35432/evkit refused"}',
      'PGPASSWORD=evkit psql',
      '{"password":"evkit"}',
      'handler saw canary-7f3a9c',
    ]);
    write('s1.producer.log', ['{"message":"published","topic":"faults.evkit.1"}']);
    const findings = scanLogsForSecrets(secrets, 0, dir);
    expect(findings.map((f) => [path.basename(f.file), f.line])).toEqual([
      ['s1.m1.log', 2],
      ['s1.m1.log', 3],
      ['s1.m1.log', 4],
      ['s1.m1.log', 5],
    ]);
    expect(JSON.stringify(findings)).not.toContain('canary-7f3a9c');
  });

  it('scans only the files the run wrote', () => {
    expect(scanLogsForSecrets(configuredSecrets({}), Date.now() + 60_000, dir)).toEqual([]);
  });
});
