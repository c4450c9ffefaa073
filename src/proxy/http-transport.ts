/**
 * The HTTP proxy transport: POST the request as JSON to the endpoint; a 200 with a JSON object is
 * the response. Anything else (refused, timed out, another status, not JSON) is a failed call.
 */
import type { ProxyConfig } from '../config/types.js';
import type { JsonMessage, ProxyResponseJson } from './codec.js';
import { jsonTooDeep, MAX_JSON_DEPTH } from '../protocol/json-depth.js';
import { asResponse, MAX_PROXY_RESPONSE_BYTES, ProxyCallError, type OutgoingHeaders, type ProxyTransport } from './transport.js';

export class HttpProxyTransport implements ProxyTransport {
  constructor(private readonly endpoint: string) {}

  async call(_event: string, request: JsonMessage, forwarded: OutgoingHeaders, config: ProxyConfig, timeoutMs: number): Promise<ProxyResponseJson> {
    const headers = new Headers();
    // Static headers first: forwarded connection headers of the same name replace them.
    for (const [name, value] of Object.entries(config.http.static_headers)) headers.set(name, value);
    const seen = new Set<string>();
    for (const [name, value] of forwarded) {
      if (seen.has(name)) headers.append(name, value);
      else headers.set(name, value);
      seen.add(name);
    }
    headers.set('content-type', 'application/json');
    let res: Response;
    let text: string;
    const abort = new AbortController();
    // A timer of our own, held until the call ends: a signal from AbortSignal.timeout() that only
    // AbortSignal.any() refers to can be garbage-collected before it fires (seen: a 200 ms proxy
    // timeout that never came), and the call would then wait for the backend forever.
    const timer = setTimeout(() => abort.abort(new DOMException(`no response within ${timeoutMs}ms`, 'TimeoutError')), timeoutMs);
    timer.unref();
    try {
      res = await fetch(this.endpoint, { method: 'POST', headers, body: JSON.stringify(request), signal: abort.signal });
      if (res.status !== 200) {
        abort.abort();
        throw new ProxyCallError(`HTTP status ${res.status}`);
      }
      text = await readLimited(res, MAX_PROXY_RESPONSE_BYTES, abort);
    } catch (e) {
      if (e instanceof ProxyCallError) throw e;
      throw new ProxyCallError(failureReason(e, timeoutMs), { cause: e });
    } finally {
      clearTimeout(timer);
    }
    if (jsonTooDeep(text)) throw new ProxyCallError(`response JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new ProxyCallError('response is not JSON');
    }
    return asResponse(body);
  }

  close(): void {}
}

/**
 * The body as text, refused (and the download stopped) as soon as it passes `limit` bytes, whether
 * or not the response announced its length.
 */
async function readLimited(res: Response, limit: number, abort: AbortController): Promise<string> {
  const tooLarge = (): ProxyCallError => new ProxyCallError(`response body larger than ${limit} bytes`);
  if (Number(res.headers.get('content-length') ?? 0) > limit) {
    abort.abort();
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (res.body !== null) {
    for await (const chunk of res.body) {
      size += chunk.byteLength;
      if (size > limit) {
        abort.abort();
        throw tooLarge();
      }
      chunks.push(chunk);
    }
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

function failureReason(e: unknown, timeoutMs: number): string {
  if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) return `no response within ${timeoutMs}ms`;
  const cause = e instanceof Error ? (e.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return e instanceof Error ? e.message : String(e);
}
