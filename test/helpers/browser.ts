/**
 * A real browser for the dashboard tests: Debian's Chromium driven by
 * playwright-core (browser downloads are not possible where the tests run).
 * Without a Chromium executable the browser suites are skipped, saying why;
 * CI installs it (.ci/run).
 */
import * as fs from 'node:fs';
import { describe } from 'vitest';
import type { Browser } from 'playwright-core';

const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => !!p);

function executable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The Chromium to drive, or null when there is none. */
export const CHROMIUM: string | null = CANDIDATES.find(executable) ?? null;

export const SKIP_REASON = `no Chromium executable (looked for ${CANDIDATES.join(', ')}): browser tests skipped; install it with "apt-get install chromium" (as .ci/run does) or set CHROMIUM_PATH`;

let warned = false;

/** `describe`, skipped with a clear message when there is no browser. */
export function describeBrowser(name: string, fn: () => void): void {
  if (!CHROMIUM && !warned) {
    warned = true;
    console.warn(SKIP_REASON);
  }
  describe.skipIf(!CHROMIUM)(CHROMIUM ? name : `${name} (skipped: no Chromium)`, fn);
}

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

export async function launchBrowser(): Promise<Browser> {
  if (!CHROMIUM) throw new Error(SKIP_REASON);
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}
