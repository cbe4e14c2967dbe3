import { defineConfig } from '@playwright/test';

/**
 * Kipinä's browser tests: Debian's Chromium (never a downloaded browser) against the real
 * server binary, which global-setup.ts starts on port 0 for the whole run.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export default defineConfig({
  testDir: '.',
  testMatch: '*.spec.ts',
  outputDir: 'test-results',
  globalSetup: './global-setup.ts',
  globalTeardown: './global-teardown.ts',
  // Two cores: the server, Chromium and the runner share them; one worker keeps timings honest.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: !!process.env.CI,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  // The list only: no HTML report.
  reporter: 'list',
  use: {
    // Set by global-setup.ts; the fixtures in helpers.ts read it as well.
    baseURL: process.env.KIPINA_URL,
    browserName: 'chromium',
    headless: true,
    locale: 'fi-FI',
    timezoneId: 'Europe/Helsinki',
    launchOptions: {
      executablePath: process.env.CHROMIUM_BIN ?? '/usr/bin/chromium',
      args: CHROMIUM_ARGS,
    },
    trace: 'off',
    screenshot: 'only-on-failure',
    actionTimeout: 10_000,
    navigationTimeout: 20_000,
  },
});
