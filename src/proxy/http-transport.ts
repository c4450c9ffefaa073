/**
 * The HTTP proxy transport: POST the request as JSON to the endpoint; a 200 with a JSON object is
 * the response. Anything else (refused, timed out, another status, not JSON) is a failed call.
 */
import type { ProxyConfig } from '../config/types.js';
import type { JsonMessage, ProxyResponseJson } from './codec.js';
import { asResponse, ProxyCallError, type OutgoingHeaders, type ProxyTransport } from './transport.js';

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
    try {
      res = await fetch(this.endpoint, { method: 'POST', headers, body: JSON.stringify(request), signal: AbortSignal.timeout(timeoutMs) });
      text = await res.text();
    } catch (e) {
      throw new ProxyCallError(failureReason(e, timeoutMs), { cause: e });
    }
    if (res.status !== 200) throw new ProxyCallError(`HTTP status ${res.status}`);
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

function failureReason(e: unknown, timeoutMs: number): string {
  if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) return `no response within ${timeoutMs}ms`;
  const cause = e instanceof Error ? (e.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return e instanceof Error ? e.message : String(e);
}
