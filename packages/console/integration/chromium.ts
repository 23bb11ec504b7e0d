import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

// Headless Chromium for the console's browser tests: Debian's `chromium`, driven by
// playwright-core (which downloads no browser of its own). Installed here when missing, so a
// fresh machine needs nothing by hand.

export const CHROMIUM = '/usr/bin/chromium';
/** Fonts for readable screenshots: Chromium without any renders boxes. */
const FONTS = '/usr/share/fonts/truetype/dejavu';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function apt(args: string[]): void {
  const result = spawnSync('apt-get', args, { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, encoding: 'utf8', timeout: 15 * 60_000 });
  if (result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
    throw new Error(`could not install Chromium for the console's browser tests: apt-get ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`}). Install it by hand: apt-get install -y chromium fonts-dejavu-core\n${output}`);
  }
}

/** Installs Debian's chromium (and a font) when missing: needs root and apt-get. */
export function ensureChromium(): void {
  if (existsSync(CHROMIUM) && existsSync(FONTS)) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`${CHROMIUM} is missing and this is not root: install it with sudo apt-get install -y chromium fonts-dejavu-core, then rerun the console's integration tests`);
  }
  apt(['update', '-q']);
  apt(['install', '-y', '-q', 'chromium', 'fonts-dejavu-core']);
  if (!existsSync(CHROMIUM)) throw new Error(`apt-get installed chromium but ${CHROMIUM} is not there`);
}

/**
 * A headless Chromium. Playwright refuses `--user-data-dir` with `launch` and instead starts each
 * browser on a new empty profile folder of its own, deleted at close: the same isolation.
 */
export async function launchChromium(): Promise<Browser> {
  ensureChromium();
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}
