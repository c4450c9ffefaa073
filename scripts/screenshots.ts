/**
 * Makes the screenshots README shows, in Debian's Chromium (see test/helpers/browser.ts):
 * `npm run screenshots` (every set), `npm run screenshots -- admin booking` (some). A set is a module
 * `scripts/screenshots/<name>.ts` exporting `shoot(outDir)`; the images go to docs/screenshots/.
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** What a screenshot set exports. */
interface ScreenshotSet {
  shoot(outDir: string): Promise<string[]>;
}

const OUT = join(process.cwd(), 'docs', 'screenshots');
const SETS_DIR = join(import.meta.dirname, 'screenshots');
const known = readdirSync(SETS_DIR)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3))
  .sort();

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !known.includes(w));
if (unknown.length > 0) {
  console.error(`unknown screenshot set(s): ${unknown.join(', ')}; known: ${known.join(', ')}`);
  process.exit(2);
}
mkdirSync(OUT, { recursive: true });
for (const name of wanted.length > 0 ? wanted : known) {
  const set = (await import(pathToFileURL(join(SETS_DIR, `${name}.ts`)).href)) as ScreenshotSet;
  for (const f of await set.shoot(OUT)) console.log(`${name}: ${f}`);
}
process.exit(0);
