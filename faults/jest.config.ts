import type { Config } from 'jest';

// The fault-injection suite (`npm run test:faults`, see faults/run.mjs): scenarios that kill and
// pause the processes of stacks of its own. One file at a time, in file-name order, since they
// share those stacks. Like the other suites, it runs the TypeScript sources (`@evkit/x` →
// packages/x/src).
const config: Config = {
  rootDir: '..',
  roots: ['<rootDir>/faults'],
  displayName: 'faults',
  preset: 'ts-jest',
  testEnvironment: 'node',
  testMatch: ['<rootDir>/faults/scenarios/**/*.fault.ts'],
  moduleNameMapper: { '^@evkit/([a-z-]+)$': '<rootDir>/packages/$1/src' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.tests.json' }],
    // @platformatic/kafka (--transport platformatic) ships ES modules only: compiled for Jest's
    // CommonJS loader as its transport's own tests do. (Member processes require them natively.)
    '/node_modules/@platformatic/[^/]+/dist/.+\\.js$': '<rootDir>/packages/transport-platformatic/jest/esm-to-cjs.mjs',
  },
  transformIgnorePatterns: ['/node_modules/(?!@platformatic/[^/]+/dist/)'],
  modulePathIgnorePatterns: ['<rootDir>/.stack'],
  globalSetup: '<rootDir>/faults/global-setup.ts',
  globalTeardown: '<rootDir>/faults/global-teardown.ts',
  testSequencer: '<rootDir>/faults/sequencer.mjs',
  maxWorkers: 1,
  slowTestThreshold: 600,
};

export default config;
