import { run } from '../program';

describe('evkit console', () => {
  let stderr: string[];
  beforeEach(() => {
    stderr = [];
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => stderr.push(String(chunk)) > 0);
    jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  });
  afterEach(() => jest.restoreAllMocks());

  it('refuses a non-loopback host without a token, before listening', async () => {
    const saved = process.env.EVKIT_CONSOLE_TOKEN;
    delete process.env.EVKIT_CONSOLE_TOKEN;
    try {
      expect(await run(['console', '--host', '0.0.0.0'])).toBe(2);
    } finally {
      if (saved !== undefined) process.env.EVKIT_CONSOLE_TOKEN = saved;
    }
    expect(stderr.join('')).toMatch(/EVKIT_CLI_USAGE: --host 0\.0\.0\.0 is not loopback: give a token/);
  });

  it('refuses a bad port', async () => {
    expect(await run(['console', '--port', 'http'])).toBe(2);
    expect(stderr.join('')).toMatch(/--port must be a port number/);
  });
});
