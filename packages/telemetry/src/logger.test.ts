import { childLogger, createJsonLogger } from './logger';

describe('createJsonLogger', () => {
  it('redacts and bounds every text field, whoever logs it', () => {
    const lines: string[] = [];
    const logger = childLogger(createJsonLogger('info', (line) => lines.push(line)), { service: 'billing' });
    logger.error('handler failed for postgres://svc:hunter2@db/x', {
      error: `connect failed; password=hunter2 ${'x'.repeat(1024 * 1024)}`,
      attempts: 3,
      ok: false,
    });
    logger.debug('below the level', { error: 'password=hunter2' });
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(lines[0]).not.toContain('hunter2');
    expect(lines[0]!.length).toBeLessThan(3000);
    expect(line).toMatchObject({ level: 'error', message: 'handler failed for postgres://***:***@db/x', service: 'billing', attempts: 3, ok: false });
    expect(String(line.error)).toMatch(/^connect failed; password=\*\*\* x+… \(\d+ more characters\)$/);
  });
});
