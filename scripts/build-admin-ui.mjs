#!/usr/bin/env node
/**
 * Builds the admin web UI (admin-ui/src, Preact + TSX) into admin-ui/dist/, which is committed and
 * shipped in the package (no build step at install): `app-<hash>.js` and `app-<hash>.css` (esbuild:
 * bundled, minified, ESM, es2020; the hash is of the content, so they can be cached for good) and
 * `index.html` from admin-ui/index.html, which loads them with URLs relative to the page
 * (`admin/ui/<file>`: the page is served at `<admin prefix>/`, the assets under
 * `<admin prefix>/admin/ui/`). Files of earlier builds are deleted. The output is deterministic:
 * test/admin/ui-bundle.test.ts checks that the committed dist/ equals a fresh build.
 *
 * `npm run build:admin-ui` (after editing admin-ui/), or `node scripts/build-admin-ui.mjs [OUT_DIR]`.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The admin UI's sources and template. */
export const ADMIN_UI_DIR = join(ROOT, 'admin-ui');

/** Where the committed build lives. */
export const ADMIN_UI_DIST = join(ADMIN_UI_DIR, 'dist');

/** The URL of the assets relative to the page. */
export const ASSET_URL_PREFIX = 'admin/ui/';

/**
 * Bundles the admin UI in memory: file name → contents (`index.html`, `app-<hash>.js`,
 * `app-<hash>.css`).
 */
export async function bundleAdminUi() {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [{ in: 'admin-ui/src/main.tsx', out: 'app' }],
    outdir: 'admin-ui/.out',
    tsconfig: 'admin-ui/tsconfig.json',
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2020',
    platform: 'browser',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    charset: 'utf8',
    legalComments: 'none',
    sourcemap: false,
    write: false,
    logLevel: 'warning',
  });
  const files = new Map();
  const names = {};
  for (const out of result.outputFiles) {
    const ext = extname(out.path);
    if (basename(out.path) !== `app${ext}` || (ext !== '.js' && ext !== '.css')) throw new Error(`unexpected output file ${out.path}`);
    const hash = createHash('sha256').update(out.contents).digest('hex').slice(0, 8);
    const name = `app-${hash}${ext}`;
    files.set(name, Buffer.from(out.contents));
    names[ext] = name;
  }
  if (names['.js'] === undefined || names['.css'] === undefined) throw new Error('the bundle lacks its .js or .css file');
  const template = readFileSync(join(ADMIN_UI_DIR, 'index.html'), 'utf8');
  for (const placeholder of ['__APP_JS__', '__APP_CSS__']) {
    if (!template.includes(placeholder)) throw new Error(`admin-ui/index.html lacks ${placeholder}`);
  }
  const html = template.replace('__APP_JS__', ASSET_URL_PREFIX + names['.js']).replace('__APP_CSS__', ASSET_URL_PREFIX + names['.css']);
  files.set('index.html', Buffer.from(html, 'utf8'));
  return files;
}

/**
 * Builds the admin UI into `outDir` (default admin-ui/dist/), deleting any other file there;
 * returns the names of the files written, sorted.
 */
export async function buildAdminUi(outDir = ADMIN_UI_DIST) {
  const files = await bundleAdminUi();
  mkdirSync(outDir, { recursive: true });
  for (const name of readdirSync(outDir)) {
    if (!files.has(name)) rmSync(join(outDir, name), { recursive: true, force: true });
  }
  for (const [name, contents] of files) writeFileSync(join(outDir, name), contents);
  return [...files.keys()].sort();
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const outDir = process.argv[2] !== undefined ? resolve(process.argv[2]) : ADMIN_UI_DIST;
  const names = await buildAdminUi(outDir);
  for (const name of names) {
    const size = readFileSync(join(outDir, name)).length;
    console.log(`${join(outDir, name)}  ${(size / 1024).toFixed(1)} KiB`);
  }
}
