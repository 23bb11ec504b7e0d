import { run } from '@evkit/cli';
import { createLocalStack } from '@evkit/stack';

// `evkit connect` passes through to @evkit/connect's commands, with the CLI's exit codes.
describe('evkit connect', () => {
  const { endpoints } = createLocalStack();
  beforeEach(() => {
    jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => jest.restoreAllMocks());

  it('reports the connectors of a running worker with exit 0', async () => {
    expect(await run(['connect', 'status', '--url', endpoints.connectUrl])).toBe(0);
  });

  it('exits 2 when the worker cannot be reached, and for a missing file', async () => {
    expect(await run(['connect', 'status', '--url', 'http://127.0.0.1:1', '--timeout-ms', '1000'])).toBe(2);
    expect(await run(['connect', 'apply', '/nonexistent/connector.json', '--url', endpoints.connectUrl])).toBe(2);
  });
});
