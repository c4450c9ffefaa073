// The admin web UI shipped in the package (admin-ui/dist/, committed) is what its sources build to,
// and keeps to the page's Content-Security-Policy (no inline script or style).
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ADMIN_UI_DIST, ASSET_URL_PREFIX, buildAdminUi } from '../../scripts/build-admin-ui.mjs';

const REBUILD = 'run "npm run build:admin-ui" and commit admin-ui/dist';

test('the committed admin-ui/dist equals a fresh build of admin-ui/src', { timeout: 30_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gyre-admin-ui-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const built = await buildAdminUi(dir);
  const committed = readdirSync(ADMIN_UI_DIST).sort();
  assert.deepEqual(committed, built, `admin-ui/dist holds other files than a fresh build: ${REBUILD}`);
  for (const name of built) {
    assert.ok(readFileSync(join(dir, name)).equals(readFileSync(join(ADMIN_UI_DIST, name))), `admin-ui/dist/${name} differs from a fresh build: ${REBUILD}`);
  }
});

test('the build is deterministic, names its assets by content hash and deletes stale files', { timeout: 30_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gyre-admin-ui-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'app-00000000.js'), 'stale');
  const first = await buildAdminUi(dir);
  assert.deepEqual(readdirSync(dir).sort(), first, 'the stale file is gone');
  assert.equal(first.length, 3, `index.html, one .js, one .css: ${first.join(', ')}`);
  assert.ok(first.every((n) => n === 'index.html' || /^app-[0-9a-f]{8}\.(js|css)$/.test(n)), first.join(', '));
  const bytes = first.map((n) => readFileSync(join(dir, n)));
  const second = await buildAdminUi(dir);
  assert.deepEqual(second, first);
  second.forEach((n, i) => assert.ok(readFileSync(join(dir, n)).equals(bytes[i]!), `${n} changed between two builds`));
});

test('index.html loads the hashed assets by URLs relative to the page, with nothing inline', () => {
  const html = readFileSync(join(ADMIN_UI_DIST, 'index.html'), 'utf8');
  const js = readdirSync(ADMIN_UI_DIST).find((n) => n.endsWith('.js'));
  const css = readdirSync(ADMIN_UI_DIST).find((n) => n.endsWith('.css'));
  assert.ok(js !== undefined && css !== undefined, 'dist has a .js and a .css file');
  assert.ok(html.includes(`<script type="module" src="${ASSET_URL_PREFIX}${js}"></script>`), 'the script is loaded from admin/ui/');
  assert.ok(html.includes(`<link rel="stylesheet" href="${ASSET_URL_PREFIX}${css}">`), 'the stylesheet is loaded from admin/ui/');
  const scripts = html.match(/<script\b[^>]*>[\s\S]*?<\/script>/g) ?? [];
  assert.equal(scripts.length, 1, 'one script element');
  assert.match(scripts[0]!, /^<script [^>]*src="[^"]+"[^>]*><\/script>$/, 'the script has a src and no inline code');
  assert.doesNotMatch(html, /<style\b/i, 'no inline <style>');
  assert.doesNotMatch(html, /\sstyle=/i, 'no style attribute');
  assert.doesNotMatch(html, /\son[a-z]+=/i, 'no inline event handler');
  assert.doesNotMatch(html, /(src|href)="\//, 'no absolute URL (admin.handler_prefix must work)');
});
