/**
 * The admin UI's prebuilt files (`admin-ui/dist/` of the package, built by `npm run build:admin-ui`
 * and shipped in it): read once, compressed once (gzip and brotli), served with ETags, with caching
 * for a year when the name carries a content hash (`app-1a2b3c4d.js`) and revalidation otherwise
 * (index.html), and with the security headers of {@link SECURITY_HEADERS}.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';

/** Where the built UI lives: `admin-ui/dist/` at the package root (two levels above this module, in src/ and in dist/). */
export const ADMIN_UI_DIR = fileURLToPath(new URL('../../admin-ui/dist/', import.meta.url));

/** Headers on every admin answer: no framing, no sniffing, no referrer, a window of its own. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** The page may load and reach only its own origin; no inline script or style, no framing. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** A name with a content hash: cached for a year (a new build gets new names). */
const HASHED = /-[0-9a-f]{8,}\.[a-z0-9]+$/i;
/** Smaller than this, compression does not pay. */
const MIN_COMPRESS = 512;

interface Asset {
  readonly type: string;
  readonly body: Buffer;
  readonly gzip: Buffer | undefined;
  readonly br: Buffer | undefined;
  readonly etag: string;
  readonly cacheControl: string;
}

/** The UI's files by name ("index.html", "app-1a2b3c4d.js", ...). */
export class AdminAssets {
  private readonly files = new Map<string, Asset>();

  /** Reads every file of `dir` (default {@link ADMIN_UI_DIR}); an absent directory gives no files. */
  constructor(dir: string = ADMIN_UI_DIR) {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (!statSync(path).isFile()) continue;
      const body = readFileSync(path);
      const type = TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream';
      const compressible = body.length >= MIN_COMPRESS && /^(text\/|application\/json|image\/svg)/.test(type);
      this.files.set(name, {
        type,
        body,
        gzip: compressible ? gzipSync(body, { level: 9 }) : undefined,
        br: compressible ? brotliCompressSync(body, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11 } }) : undefined,
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
        cacheControl: HASHED.test(name) ? 'public, max-age=31536000, immutable' : 'no-cache',
      });
    }
  }

  /** True when the UI was found (its index.html at least). */
  get present(): boolean {
    return this.files.has('index.html');
  }

  /** True when there is a file of that name. */
  has(name: string): boolean {
    return this.files.has(name);
  }

  /** Serves a file (GET or HEAD): 304 for a matching If-None-Match, compressed when the client takes it. */
  serve(name: string, req: IncomingMessage, res: ServerResponse): void {
    const a = this.files.get(name);
    if (a === undefined) throw new Error(`no admin UI file named ${JSON.stringify(name)}`);
    const headers: Record<string, string | number> = {
      ...SECURITY_HEADERS,
      'Content-Type': a.type,
      'Cache-Control': a.cacheControl,
      ETag: a.etag,
      Vary: 'Accept-Encoding',
    };
    if (a.type.startsWith('text/html')) headers['Content-Security-Policy'] = CONTENT_SECURITY_POLICY;
    if (req.headers['if-none-match'] === a.etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    const accepts = String(req.headers['accept-encoding'] ?? '');
    let body = a.body;
    if (a.br !== undefined && /\bbr\b/.test(accepts)) {
      body = a.br;
      headers['Content-Encoding'] = 'br';
    } else if (a.gzip !== undefined && /\bgzip\b/.test(accepts)) {
      body = a.gzip;
      headers['Content-Encoding'] = 'gzip';
    }
    headers['Content-Length'] = body.length;
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}
