/**
 * The admin UI's live tap: `GET <prefix>/admin/tap?channel=<name>` streams what passes through a
 * channel as server-sent events, without subscribing a client (see `GyreNode.tap`):
 * `event: ready` once the node hears the channel, then `event: publication` (data
 * `{"channel", "pub": {"data" | "b64data", "offset"?, "info"?, "tags"?}}`) and `event: join` /
 * `event: leave` (data `{"channel", "info"}`), and a `: ping` comment every {@link PING_MS}.
 * Bounded: at most {@link MAX_TAPS} taps at once per process, and a tap whose reader falls
 * {@link MAX_BUFFERED} bytes behind is ended with `event: overflow`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { clientInfoJson } from '../api/server-api.js';
import { sendJson } from '../http/respond.js';
import type { ChannelTap } from '../node/hub.js';
import type { GyreNode } from '../node/node.js';
import type { ClientInfo, Publication } from '../protocol/types.js';
import { SECURITY_HEADERS } from './assets.js';

/** Taps open at once, per process. */
export const MAX_TAPS = 64;
/** Bytes a tap's reader may fall behind before the tap ends. */
export const MAX_BUFFERED = 1 << 20;
/** How often an idle tap sends a comment, so proxies keep it open (ms). */
export const PING_MS = 25_000;

/** One open tap: an SSE response fed by the node. */
class TapStream implements ChannelTap {
  private stop: (() => Promise<void>) | undefined;
  private ended = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly onEnd: (tap: TapStream) => void,
  ) {}

  /** Starts hearing `channel` on `node`; the stream ends when the request closes. */
  async start(node: GyreNode, channel: string): Promise<void> {
    this.res.once('close', () => this.end());
    const stop = await node.tap(channel, this);
    if (this.ended) {
      await stop();
      return;
    }
    this.stop = stop;
    this.send('ready', '{}');
  }

  onPublication(channel: string, pub: Publication): void {
    this.send('publication', `{"channel":${JSON.stringify(channel)},"pub":${publicationText(pub)}}`);
  }

  onJoinLeave(channel: string, kind: 'join' | 'leave', info: ClientInfo): void {
    this.send(kind, JSON.stringify({ channel, info: clientInfoJson(info) }));
  }

  ping(): void {
    if (!this.ended) this.res.write(': ping\n\n');
  }

  /** Ends the tap (the node stops hearing the channel for it) and the response. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.stop?.().catch(() => {});
    this.res.end();
    this.onEnd(this);
  }

  private send(event: string, data: string): void {
    if (this.ended) return;
    if (this.res.writableLength > MAX_BUFFERED) {
      this.res.write('event: overflow\ndata: {"reason":"the reader fell behind"}\n\n');
      this.end();
      return;
    }
    this.res.write(`event: ${event}\ndata: ${data}\n\n`);
  }
}

/** A publication as JSON text, its data embedded as it is (never parsed). */
function publicationText(pub: Publication): string {
  let s = typeof pub.data === 'string' ? `{"data":${pub.data}` : `{"b64data":"${Buffer.from(pub.data.buffer, pub.data.byteOffset, pub.data.byteLength).toString('base64')}"`;
  if (pub.offset > 0) s += `,"offset":${pub.offset}`;
  if (pub.info !== undefined) s += `,"info":${JSON.stringify(clientInfoJson(pub.info))}`;
  if (pub.tags !== undefined) s += `,"tags":${JSON.stringify(pub.tags)}`;
  return s + '}';
}

/** The open taps of a node. */
export class AdminTaps {
  private readonly open = new Set<TapStream>();
  private pinger: NodeJS.Timeout | undefined;

  constructor(private readonly node: GyreNode) {}

  /** Number of taps open. */
  get size(): number {
    return this.open.size;
  }

  /** Answers a tap request for `channel` (validated here: 400 for a bad name, 429 past {@link MAX_TAPS}). */
  async serve(channel: string | null, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET') return sendJson(res, 405, { error: 'method not allowed' });
    if (channel === null || channel === '') return sendJson(res, 400, { error: 'channel is required' });
    try {
      this.node.rules.resolveForClient(channel);
    } catch (e) {
      return sendJson(res, 400, { error: `bad channel: ${e instanceof Error ? e.message : String(e)}` });
    }
    if (this.open.size >= MAX_TAPS) return sendJson(res, 429, { error: `too many taps open (at most ${MAX_TAPS})` });
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    const tap = new TapStream(res, (t) => this.closed(t));
    this.open.add(tap);
    this.pinger ??= setInterval(() => {
      for (const t of this.open) t.ping();
    }, PING_MS).unref();
    try {
      await tap.start(this.node, channel);
      this.node.log.info({ channel }, 'admin: tap opened');
    } catch (e) {
      this.node.log.warn({ channel, err: e instanceof Error ? e.message : String(e) }, 'admin: tap could not hear the channel');
      res.write(`event: error\ndata: ${JSON.stringify({ error: 'the channel could not be heard: the engine is unavailable' })}\n\n`);
      tap.end();
    }
  }

  /** Ends every tap (at shutdown). */
  closeAll(): void {
    for (const t of [...this.open]) t.end();
  }

  private closed(tap: TapStream): void {
    this.open.delete(tap);
    if (this.open.size === 0 && this.pinger !== undefined) {
      clearInterval(this.pinger);
      this.pinger = undefined;
    }
  }
}
