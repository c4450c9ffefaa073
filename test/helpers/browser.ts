/**
 * Browser tests in Debian's Chromium (`/usr/bin/chromium`, or `GYRE_CHROMIUM`), driven by
 * playwright-core (which never downloads a browser). Without Chromium a browser test is skipped with
 * a visible notice saying why, unless GYRE_REQUIRE_SERVICES=1 (CI, whose `.ci/run` installs it), where
 * it fails. Screenshots go to `test-output/screenshots/` (ignored by git).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

/** The Chromium executable the browser tests drive. */
export const CHROMIUM_PATH = process.env['GYRE_CHROMIUM'] ?? '/usr/bin/chromium';

/** Where browser tests save their screenshots. */
export const SCREENSHOT_DIR = join(process.cwd(), 'test-output', 'screenshots');

const REQUIRE = process.env['GYRE_REQUIRE_SERVICES'] === '1';

/** True when the Chromium executable is installed. */
export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}

/**
 * Flags for a headless Chromium on a machine with no outside network: no background networking, no
 * component updates, no sync (their failed connections would only slow the start), no GPU, no
 * sandbox (tests may run as root).
 */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** A launched headless Chromium with its own empty profile. */
export interface TestBrowser {
  readonly browser: Browser;
  /** A new isolated context (its own cookies and storage): one per simulated user. */
  newContext(options?: { viewport?: { width: number; height: number } }): Promise<BrowserContext>;
  close(): Promise<void>;
}

/** Launches Debian's Chromium headless. */
export async function launchBrowser(): Promise<TestBrowser> {
  // playwright-core gives the browser a fresh temporary profile of its own and removes it at close.
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
  return {
    browser,
    newContext: (options) => browser.newContext({ viewport: options?.viewport ?? { width: 1280, height: 800 } }),
    async close() {
      await browser.close().catch(() => {});
    },
  };
}

/** The path of a screenshot named `name` (the directory is created). */
export function screenshotPath(name: string): string {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return join(SCREENSHOT_DIR, name.endsWith('.png') ? name : `${name}.png`);
}

/**
 * A test that needs Chromium: skipped with a notice when it is not installed, failed instead when
 * GYRE_REQUIRE_SERVICES=1.
 */
export function browserTest(name: string, fn: (t: TestContext) => Promise<void>, options: { timeout?: number } = {}): void {
  test(name, { timeout: options.timeout ?? 55_000 }, async (t) => {
    if (!chromiumAvailable()) {
      const msg = `Chromium is not installed at ${CHROMIUM_PATH} (apt-get install chromium, or set GYRE_CHROMIUM)`;
      if (REQUIRE) assert.fail(`${msg} (GYRE_REQUIRE_SERVICES=1)`);
      console.log(`# SKIPPED "${name}": ${msg}`);
      t.skip(msg);
      return;
    }
    await fn(t);
  });
}
