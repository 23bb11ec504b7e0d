import type { Config } from 'jest';

// Tests run against the TypeScript sources: `@evkit/x` maps to packages/x/src, so no build step
// sits between an edit and a test run. Type checking is `tsc -b`'s job (part of `npm test`).
const shared = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  // The local stack's folder holds PostgreSQL's own *.snap files: never Jest's business.
  modulePathIgnorePatterns: ['<rootDir>/.stack'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/.stack'],
  moduleNameMapper: { '^@evkit/([a-z-]+)$': '<rootDir>/packages/$1/src' },
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.tests.json' }] },
} satisfies Config;

const config: Config = {
  // Integration tests meet real servers on a 2-core machine: a first group join or a cold
  // registry takes seconds. (A global option: Jest has no per-project timeout.)
  testTimeout: 60_000,
  projects: [
    {
      ...shared,
      displayName: 'unit',
      // Beside the code they test; no servers.
      testMatch: ['<rootDir>/packages/*/src/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
    },
    {
      ...shared,
      displayName: 'integration',
      // Against the real local stack, which globalSetup starts when it is not running.
      testMatch: ['<rootDir>/packages/*/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/integration-setup.ts',
      slowTestThreshold: 30,
    },
  ],
};

export default config;
