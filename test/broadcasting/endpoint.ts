/**
 * Test endpoints: a local HTTP server whose answers a test scripts, recording every request, and a
 * spy that forwards to a real server (Gyre's API) while recording what went through.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deadline, DEFAULT_WAIT_MS } from '../helpers/wait.js';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  text: string;
  /** The body parsed as JSON (undefined when it is not). */
  json: unknown;
}

export type Reply = { status: number; body?: unknown; headers?: Record<string, string> } | 'hang' | 'forward';

export interface Endpoint {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

function read(req: IncomingMessage): Promise<string> {
  return deadline(DEFAULT_WAIT_MS, () => `endpoint: request body of ${req.method} ${req.url} not read within ${DEFAULT_WAIT_MS} ms`, (resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * Starts an endpoint on 127.0.0.1; `reply` decides each answer from the request and its index:
 * a status and body, `'hang'` (never answers), or `'forward'` (to `upstream`, answering what it answers).
 */
export async function startEndpoint(reply: (req: RecordedRequest, index: number) => Reply | Promise<Reply>, upstream?: string): Promise<Endpoint> {
  const requests: RecordedRequest[] = [];
  const hanging: ServerResponse[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const text = await read(req);
      const url = new URL(req.url ?? '/', 'http://x');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      const recorded: RecordedRequest = { method: req.method ?? '', path: url.pathname, query: url.searchParams, headers: req.headers, text, json };
      const index = requests.push(recorded) - 1;
      const r = await reply(recorded, index);
      if (r === 'hang') {
        hanging.push(res);
        return;
      }
      if (r === 'forward') {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers[k] = v;
        const up = await fetch(`${upstream}${req.url}`, { method: req.method ?? 'POST', headers, body: text });
        const body = await up.text();
        res.writeHead(up.status, { 'Content-Type': up.headers.get('content-type') ?? 'application/json' });
        res.end(body);
        return;
      }
      const body = r.body === undefined ? '' : typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
      res.writeHead(r.status, { 'Content-Type': 'application/json', ...r.headers });
      res.end(body);
    })();
  });
  await listening(server);
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await closed(server);
    },
  };
}

/** A spy in front of a real server: forwards everything, recording it. */
export function startSpy(upstream: string): Promise<Endpoint> {
  return startEndpoint(() => 'forward', upstream);
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await listening(server);
  const port = (server.address() as AddressInfo).port;
  await closed(server);
  return port;
}

/** Listens on a random port of 127.0.0.1 (bounded wait). */
function listening(server: Server): Promise<void> {
  return deadline<void>(DEFAULT_WAIT_MS, () => `endpoint: server not listening within ${DEFAULT_WAIT_MS} ms`, (resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
}

/** Closes a server (bounded wait). */
function closed(server: Server): Promise<void> {
  return deadline<void>(DEFAULT_WAIT_MS, () => `endpoint: server not closed within ${DEFAULT_WAIT_MS} ms`, (resolve) => {
    server.close(() => resolve());
  });
}
