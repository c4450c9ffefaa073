/**
 * Files the pages need: the app's own (public/) and the browser build of the `centrifuge` SDK,
 * served from the installed package (nothing is copied into the repository, nothing comes from a
 * CDN).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The directory of the pages, styles and browser scripts. */
export const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));

/** The SDK's browser build (UMD, sets `globalThis.Centrifuge`), found through the package's entry point. */
export const CENTRIFUGE_BROWSER_JS = join(dirname(createRequire(import.meta.url).resolve('centrifuge')), '..', 'dist', 'centrifuge.js');

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** A file as a response (no-cache: the demo is for reading and changing), or undefined when missing. */
export async function fileResponse(path: string): Promise<Response | undefined> {
  try {
    const body = await readFile(path);
    return new Response(body, {
      headers: { 'Content-Type': TYPES[extname(path)] ?? 'application/octet-stream', 'Cache-Control': 'no-cache' },
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'EISDIR') return undefined;
    throw e;
  }
}

/** A file of public/ by its path there, or undefined when it is missing or outside public/. */
export function publicFile(relative: string): Promise<Response | undefined> {
  const path = resolve(PUBLIC_DIR, relative);
  if (!path.startsWith(resolve(PUBLIC_DIR) + sep)) return Promise.resolve(undefined);
  return fileResponse(path);
}
