/**
 * Reading request bodies with a size limit: one reader for every HTTP edge (server API, proxy
 * backend, broadcasting auth endpoint), built on `raw-body`. A declared `Content-Length` over the
 * limit is refused before a byte is read; a body that grows past it stops being buffered at once.
 */
import type { IncomingMessage } from 'node:http';
import getRawBody from 'raw-body';

/** The body is longer than the reader's limit (answer 413). */
export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body larger than ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/** The request ended before its body was complete, or its stream failed (answer 400). */
export class BodyReadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BodyReadError';
  }
}

/**
 * True when the request declares a body longer than `limit` (0 = no limit), so it can be refused
 * without reading it.
 */
export function declaresTooLarge(req: IncomingMessage, limit: number): boolean {
  if (limit <= 0) return false;
  const declared = Number(req.headers['content-length'] ?? 0);
  return Number.isFinite(declared) && declared > limit;
}

/**
 * Reads a request's whole body, at most `limit` bytes (0 = no limit). Throws
 * {@link BodyTooLargeError} past the limit and {@link BodyReadError} for a broken stream; in both
 * cases the rest of the body is left unread (answer with `Connection: close`).
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  try {
    return await getRawBody(req, limit > 0 ? { limit } : {});
  } catch (e) {
    if (isTooLarge(e)) throw new BodyTooLargeError(limit);
    throw new BodyReadError(e instanceof Error ? e.message : 'request body could not be read', { cause: e });
  }
}

/** Reads a request's body as UTF-8 text, at most `limit` bytes (see {@link readBody}). */
export async function readText(req: IncomingMessage, limit: number): Promise<string> {
  return (await readBody(req, limit)).toString('utf8');
}

/**
 * Reads a fetch `Request`'s body as UTF-8 text, at most `limit` bytes (0 = no limit), stopping at
 * the first chunk past the limit.
 */
export async function readRequestText(request: Request, limit: number): Promise<string> {
  if (limit > 0 && Number(request.headers.get('content-length') ?? 0) > limit) throw new BodyTooLargeError(limit);
  if (request.body === null) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (limit > 0 && size > limit) {
      await reader.cancel().catch(() => {});
      throw new BodyTooLargeError(limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function isTooLarge(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { type?: unknown }).type === 'entity.too.large';
}
