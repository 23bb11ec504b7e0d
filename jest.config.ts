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

// @platformatic/kafka 2.x needs Node >= 22.22 (or >= 24.6) while the core keeps Node 20: its
// transport's tests run in projects of their own, on a Node 22 binary (`npm run
// test:platformatic`), and the default projects leave them out. The client ships ES modules
// only, which Jest's CommonJS loader compiles with the package's transformer.
const PLATFORMATIC = '<rootDir>/packages/transport-platformatic/';
const [nodeMajor = 0, nodeMinor = 0] = process.versions.node.split('.').map(Number);
const platformaticRuns = (nodeMajor === 22 && nodeMinor >= 22) || (nodeMajor === 24 && nodeMinor >= 6) || nodeMajor > 24;
const platformatic = {
  ...shared,
  transform: {
    ...shared.transform,
    '/node_modules/@platformatic/[^/]+/dist/.+\\.js$': `${PLATFORMATIC}jest/esm-to-cjs.mjs`,
  },
  transformIgnorePatterns: ['/node_modules/(?!@platformatic/[^/]+/dist/)'],
} satisfies Config;
const withoutPlatformatic = [...shared.testPathIgnorePatterns, PLATFORMATIC];

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
      testPathIgnorePatterns: withoutPlatformatic,
    },
    {
      ...shared,
      displayName: 'integration',
      // Against the real local stack, which globalSetup starts when it is not running.
      testMatch: ['<rootDir>/packages/*/integration/**/*.test.ts'],
      testPathIgnorePatterns: withoutPlatformatic,
      globalSetup: '<rootDir>/test/integration-setup.ts',
      slowTestThreshold: 30,
    },
    ...(platformaticRuns
      ? [
          { ...platformatic, displayName: 'platformatic', testMatch: [`${PLATFORMATIC}src/**/*.test.ts`] },
          {
            ...platformatic,
            displayName: 'platformatic-integration',
            testMatch: [`${PLATFORMATIC}integration/**/*.test.ts`],
            globalSetup: '<rootDir>/test/integration-setup.ts',
            slowTestThreshold: 30,
          },
        ]
      : []),
  ],
};

export default config;
