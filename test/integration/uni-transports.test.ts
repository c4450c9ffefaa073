/**
 * The unidirectional transports end to end, on real sockets: `uni_http_stream` (POST, one push per
 * line), `uni_sse` (GET with `cf_connect` or POST, `data:` events) and `uni_websocket` (connect
 * request as first message or `cf_connect`, pushes as text frames). For each: the connect push
 * first, publications of token and personal channels, pings, refused connects as disconnect codes
 * (or HTTP statuses with `connect_code_to_http_response`), bad input answered with Centrifugo's
 * statuses while the server keeps serving, slow readers closed with 3008, disabled sections 404.
 */
import assert from 'node:assert/strict';
import { request as httpRequest, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { ConnectResponse, Handlers } from '../../src/index.js';
import { startGyre, until, type TestGyre } from '../helpers/gyre.js';
import { SocketInbox, type CloseInfo } from '../helpers/inbox.js';
import { deadline, waitOptions, type WaitArg } from '../helpers/wait.js';

type Json = Record<string, any>;
type StreamKind = 'uni_http_stream' | 'uni_sse';

/** All three transports on, short pings, personal channels, expiry closing at once. */
const UNI = {
  client: {
    ping_interval: '1s',
    pong_timeout: '900ms',
    expired_close_delay: '0s',
    subscribe_to_user_personal_channel: { enabled: true },
  },
  uni_websocket: { enabled: true },
  uni_http_stream: { enabled: true },
  uni_sse: { enabled: true },
};

const PATHS = {
  uni_http_stream: '/connection/uni_http_stream',
  uni_sse: '/connection/uni_sse',
  uni_websocket: '/connection/uni_websocket',
} as const;

const gyres: TestGyre[] = [];
const streams: UniStream[] = [];
const sockets: UniSocket[] = [];

async function gyreWith(overrides: Parameters<typeof startGyre>[0] = {}, handlers?: Handlers): Promise<TestGyre> {
  const g = await startGyre(overrides, undefined, handlers === undefined ? {} : { handlers });
  gyres.push(g);
  return g;
}

after(async () => {
  for (const s of streams) s.req.destroy();
  for (const s of sockets) s.ws.terminate();
  for (const g of gyres) await g.close();
});

// ---- an HTTP stream client ----

interface StreamRequest {
  method?: string;
  /** The connect request as the body (POST), or in `cf_connect` (GET). */
  body?: string;
  cfConnect?: string;
  headers?: Record<string, string>;
  /** Another path than the default one. */
  path?: string;
}

/**
 * One uni HTTP stream opened with `node:http` (its own connection, no keep-alive agent): the
 * status and headers, the raw text, and the pushes parsed as they arrive (lines, or SSE events).
 */
class UniStream {
  readonly inbox: SocketInbox<Json>;
  /** Everything received, as text. */
  text = '';
  /** Every push received, in order. */
  readonly received: Json[] = [];
  private pending = '';

  private constructor(
    readonly kind: StreamKind,
    readonly req: ClientRequest,
    readonly res: IncomingMessage,
  ) {
    this.inbox = new SocketInbox<Json>(kind);
    const parse = res.statusCode === 200 && /^(text\/plain|text\/event-stream)/.test(res.headers['content-type'] ?? '');
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      this.text += chunk;
      if (parse) this.parse(chunk);
    });
    res.on('end', () => this.inbox.closed(0, 'end'));
    res.on('error', () => this.inbox.closed(-1, 'error'));
    res.on('close', () => this.inbox.closed(-1, 'closed'));
  }

  static open(gyre: TestGyre, kind: StreamKind, r: StreamRequest, wait?: WaitArg): Promise<UniStream> {
    const method = r.method ?? (kind === 'uni_sse' && r.body === undefined ? 'GET' : 'POST');
    const query = r.cfConnect === undefined ? '' : `?cf_connect=${encodeURIComponent(r.cfConnect)}`;
    const { timeoutMs, what } = waitOptions(wait, `a response from ${method} ${PATHS[kind]}`);
    return deadline<UniStream>(timeoutMs, () => `UniStream.open: no ${what} within ${timeoutMs} ms`, (resolve, reject) => {
      const req = httpRequest(`${gyre.baseUrl}${r.path ?? PATHS[kind]}${query}`, { method, agent: false, headers: r.headers ?? {} });
      req.on('response', (res) => {
        const s = new UniStream(kind, req, res);
        streams.push(s);
        resolve(s);
      });
      req.on('error', reject);
      req.end(r.body);
    });
  }

  get status(): number {
    return this.res.statusCode ?? 0;
  }

  get headers(): IncomingHttpHeaders {
    return this.res.headers;
  }

  /** The first push not yet taken. */
  first(opts?: WaitArg): Promise<Json> {
    return this.inbox.next(() => true, opts);
  }

  next(pred: (m: Json) => boolean, opts?: WaitArg): Promise<Json> {
    return this.inbox.next(pred, opts);
  }

  /** Resolves once the response has ended (or the connection closed). */
  ended(opts?: WaitArg): Promise<CloseInfo> {
    return this.inbox.waitClosed(opts);
  }

  private parse(chunk: string): void {
    this.pending += chunk;
    if (this.kind === 'uni_http_stream') {
      const lines = this.pending.split('\n');
      this.pending = lines.pop()!;
      this.add(lines.filter((l) => l !== '').map((l) => JSON.parse(l) as Json));
      return;
    }
    if (this.pending.startsWith('\r\n')) this.pending = this.pending.slice(2);
    const events = this.pending.split('\n\n');
    this.pending = events.pop()!;
    for (const event of events) {
      const data = event
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6))
        .join('\n');
      this.add([JSON.parse(data) as Json]);
    }
  }

  private add(pushes: Json[]): void {
    this.received.push(...pushes);
    this.inbox.push(...pushes);
  }
}

/** A plain request and its whole answer (for the statuses of refused requests). */
async function answerOf(gyre: TestGyre, path: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; body: string }> {
  const res = await fetch(`${gyre.baseUrl}${path}`, init);
  return { status: res.status, headers: res.headers, body: await res.text() };
}

// ---- a uni WebSocket client ----

/** A `ws` client of `uni_websocket`: the pushes it received (lines of its text frames), its frames, WebSocket pings, the close. */
class UniSocket {
  readonly inbox = new SocketInbox<Json>('UniSocket');
  readonly frames: string[] = [];
  pings = 0;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const text = data.toString('utf8');
      this.frames.push(text);
      this.inbox.push(...text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Json));
    });
    ws.on('ping', () => this.pings++);
    ws.on('close', (code: number, reason: Buffer) => this.inbox.closed(code, reason.toString()));
  }

  static open(gyre: TestGyre, cfConnect?: string, options?: WebSocket.ClientOptions): Promise<UniSocket> {
    const query = cfConnect === undefined ? '' : `?cf_connect=${encodeURIComponent(cfConnect)}`;
    return deadline<UniSocket>(10_000, () => 'UniSocket.open: not open within 10000 ms', (resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${gyre.port}${PATHS.uni_websocket}${query}`, options);
      const s = new UniSocket(ws);
      sockets.push(s);
      ws.once('open', () => resolve(s));
      ws.once('error', reject);
    });
  }

  /** The status an upgrade is refused with. */
  static refusal(gyre: TestGyre, query = '', options?: WebSocket.ClientOptions): Promise<number> {
    return deadline<number>(10_000, () => 'UniSocket.refusal: no answer within 10000 ms', (resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${gyre.port}${PATHS.uni_websocket}${query}`, options);
      ws.once('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.once('open', () => {
        ws.terminate();
        reject(new Error('the upgrade was accepted'));
      });
      ws.once('error', () => {});
    });
  }

  first(opts?: WaitArg): Promise<Json> {
    return this.inbox.next(() => true, opts);
  }

  next(pred: (m: Json) => boolean, opts?: WaitArg): Promise<Json> {
    return this.inbox.next(pred, opts);
  }

  closed(opts?: WaitArg): Promise<CloseInfo> {
    return this.inbox.waitClosed(opts);
  }
}

// ---- shared checks ----

/** A connection of `kind` with a good token still gets its connect push: the server keeps serving. */
async function assertServes(gyre: TestGyre, kind: StreamKind | 'uni_websocket'): Promise<void> {
  const token = await gyre.token('serving');
  if (kind === 'uni_websocket') {
    const s = await UniSocket.open(gyre, JSON.stringify({ token }));
    assert.ok('connect' in (await s.first('the connect push of a later client')));
    s.ws.close();
    return;
  }
  const s = await UniStream.open(gyre, kind, kind === 'uni_sse' ? { cfConnect: JSON.stringify({ token }) } : { body: JSON.stringify({ token }) });
  assert.equal(s.status, 200);
  assert.ok('connect' in (await s.first('the connect push of a later client')));
  s.req.destroy();
}

/** The connect push: client id, version, a session of its own, the ping interval, the subscriptions. */
function checkConnectPush(m: Json, channels: string[]): Json {
  assert.deepEqual(Object.keys(m), ['connect'], 'a bare Push, the connect one');
  const c = m['connect'] as Json;
  assert.match(c['client'], /^[0-9a-f-]{36}$/);
  assert.equal(typeof c['version'], 'string');
  assert.match(c['session'], /^[0-9a-f-]{36}$/);
  assert.notEqual(c['session'], c['client'], 'the session is not the client id');
  assert.equal(c['ping'], 1);
  assert.equal(c['pong'], undefined, 'a unidirectional client answers no ping');
  for (const ch of channels) assert.ok(ch in (c['subs'] ?? {}), `subscribed to ${ch} from the start`);
  return c;
}

function logged(gyre: TestGyre, msg: string | RegExp): boolean {
  return gyre.logs.some((l) => (typeof msg === 'string' ? l.msg === msg : msg.test(l.msg)));
}

/** Body and query forms of a connect request per HTTP stream kind. */
function connectRequest(kind: StreamKind, request: Json): StreamRequest {
  return kind === 'uni_sse' ? { cfConnect: JSON.stringify(request) } : { body: JSON.stringify(request) };
}

// =================================================================================================

describe('unidirectional transports', () => {
  let gyre: TestGyre;
  before(async () => {
    gyre = await gyreWith(UNI);
  });

  for (const kind of ['uni_http_stream', 'uni_sse'] as const) {
    describe(kind, () => {
      test('a JWT connect: the connect push first, then token and personal channel publications, then pings', async () => {
        const token = await gyre.token('42', { channels: ['news'] });
        const s = await UniStream.open(gyre, kind, connectRequest(kind, { token, name: 'curl', version: '1.0' }));
        assert.equal(s.status, 200);
        assert.equal(s.headers['content-type'], kind === 'uni_sse' ? 'text/event-stream; charset=utf-8' : 'text/plain; charset=utf-8');
        assert.equal(s.headers['cache-control'], 'private, no-cache, no-store, must-revalidate, max-age=0');
        assert.equal(s.headers['x-accel-buffering'], 'no');
        assert.equal(s.headers['pragma'], 'no-cache');
        checkConnectPush(await s.first('the connect push'), ['news', '#42']);
        if (kind === 'uni_sse') assert.ok(s.text.startsWith('\r\ndata: {"connect":'), JSON.stringify(s.text.slice(0, 40)));
        else assert.ok(s.text.startsWith('{"connect":'), JSON.stringify(s.text.slice(0, 40)));

        await gyre.server.api.publish({ channel: 'news', data: { n: 1 } });
        const pub = await s.next((m) => m['channel'] === 'news', 'the publication on news');
        assert.deepEqual(pub['pub']['data'], { n: 1 });
        await gyre.server.api.publish({ channel: '#42', data: { personal: true } });
        const personal = await s.next((m) => m['channel'] === '#42', 'the publication on the personal channel');
        assert.deepEqual(personal['pub']['data'], { personal: true });

        const ping = await s.next((m) => Object.keys(m).length === 0, { timeoutMs: 5000, what: 'a ping {}' });
        assert.deepEqual(ping, {});
        assert.ok(s.text.includes(kind === 'uni_sse' ? '\n\ndata: {}\n\n' : '\n{}\n'), 'pings framed as pushes');
        const seen = gyre.server.node.clientCount;
        s.req.destroy();
        await until(() => gyre.server.node.clientCount === seen - 1, 'the closed stream to be unregistered');
      });

      test('a bad token: 200, the disconnect push 3500, the end of the stream; the server keeps serving', async () => {
        const s = await UniStream.open(gyre, kind, connectRequest(kind, { token: 'not.a.token' }));
        assert.equal(s.status, 200);
        assert.deepEqual(await s.first('the disconnect push'), { disconnect: { code: 3500, reason: 'invalid token' } });
        await s.ended();
        assert.ok(logged(gyre, /^unidirectional connect refused: invalid connection token$/));
        await assertServes(gyre, kind);
      });

      test('an expired token: disconnect 3005; no token (anonymous not allowed): 3501', async () => {
        const expired = await UniStream.open(gyre, kind, connectRequest(kind, { token: await gyre.token('42', {}, -60) }));
        assert.deepEqual(await expired.first(), { disconnect: { code: 3005, reason: 'connection expired' } });
        await expired.ended();
        const anonymous = await UniStream.open(gyre, kind, kind === 'uni_sse' ? {} : { body: '{}' });
        assert.deepEqual(await anonymous.first(), { disconnect: { code: 3501, reason: 'bad request' } });
        await anonymous.ended();
        await assertServes(gyre, kind);
      });

      test('an expiring connection cannot refresh: closed with 3005 when its token expires', async () => {
        const s = await UniStream.open(gyre, kind, connectRequest(kind, { token: await gyre.token('42', {}, 2) }));
        const c = (await s.first())['connect'] as Json;
        assert.equal(c['expires'], true);
        assert.ok(c['ttl'] > 0 && c['ttl'] <= 2, `ttl ${c['ttl']}`);
        assert.deepEqual(await s.next((m) => 'disconnect' in m, 'the 3005 disconnect push'), {
          disconnect: { code: 3005, reason: 'connection expired' },
        });
        await s.ended();
      });

      test('malformed JSON, an empty body, a non-object: 400; a body over max_request_body_size: 413', async () => {
        for (const body of ['{"token":', '', '[1,2]', '{"token": 5}']) {
          const a = await answerOf(gyre, PATHS[kind], { method: 'POST', body });
          assert.equal(a.status, 400, `POST ${JSON.stringify(body)}`);
        }
        const big = JSON.stringify({ token: 'x', data: 'y'.repeat(70_000) });
        assert.equal((await answerOf(gyre, PATHS[kind], { method: 'POST', body: big })).status, 413);
        assert.ok(logged(gyre, 'malformed connect request'));
        assert.ok(logged(gyre, 'connect request body too large'));
        await assertServes(gyre, kind);
      });

      test('wrong methods: 405 (OPTIONS 200 on uni_http_stream)', async () => {
        const wrong = kind === 'uni_sse' ? ['PUT', 'DELETE', 'OPTIONS'] : ['GET', 'PUT', 'DELETE'];
        for (const method of wrong) assert.equal((await answerOf(gyre, PATHS[kind], { method })).status, 405, method);
        if (kind === 'uni_http_stream') assert.equal((await answerOf(gyre, PATHS[kind], { method: 'OPTIONS' })).status, 200);
        await assertServes(gyre, kind);
      });

      test('recovery: the subs of the connect request get what was missed, in the connect push', async () => {
        const token = await gyre.token('7', { channels: [`recover-${kind}`] });
        const channel = `recover-${kind}`;
        const first = await UniStream.open(gyre, kind, connectRequest(kind, { token }));
        const sub = ((await first.first())['connect'] as Json)['subs'][channel] as Json;
        first.req.destroy();
        await gyre.server.api.publish({ channel, data: { missed: 1 } });
        await gyre.server.api.publish({ channel, data: { missed: 2 } });
        const again = await UniStream.open(
          gyre,
          kind,
          connectRequest(kind, { token, subs: { [channel]: { recover: true, epoch: sub['epoch'], offset: sub['offset'] ?? 0 } } }),
        );
        const recovered = ((await again.first())['connect'] as Json)['subs'][channel] as Json;
        assert.equal(recovered['recovered'], true);
        assert.deepEqual(
          (recovered['publications'] as Json[]).map((p) => p['data']),
          [{ missed: 1 }, { missed: 2 }],
        );
        again.req.destroy();
      });
    });
  }

  test('the server API subscribes a uni client (subscribe push) and disconnects it (disconnect push)', async () => {
    const s = await UniStream.open(gyre, 'uni_http_stream', { body: JSON.stringify({ token: await gyre.token('api-user') }) });
    await s.first('the connect push');
    await gyre.server.api.subscribe({ user: 'api-user', channel: 'later' });
    const subscribed = await s.next((m) => m['channel'] === 'later', 'the subscribe push');
    assert.ok('subscribe' in subscribed, JSON.stringify(subscribed));
    await gyre.server.api.publish({ channel: 'later', data: { late: true } });
    assert.deepEqual((await s.next((m) => m['channel'] === 'later'))['pub']['data'], { late: true });
    await gyre.server.api.disconnect({ user: 'api-user' });
    assert.deepEqual((await s.next((m) => 'disconnect' in m))['disconnect']['code'], 3503);
    await s.ended();
  });

  describe('uni_sse only', () => {
    test('a POST with the connect request as body; a malformed cf_connect is an empty 200', async () => {
      const token = await gyre.token('42');
      const s = await UniStream.open(gyre, 'uni_sse', { method: 'POST', body: JSON.stringify({ token }) });
      assert.equal(s.headers['content-type'], 'text/event-stream; charset=utf-8');
      checkConnectPush(await s.first(), ['#42']);
      s.req.destroy();
      const broken = await answerOf(gyre, `${PATHS.uni_sse}?cf_connect=${encodeURIComponent('{"token":')}`);
      assert.equal(broken.status, 200);
      assert.equal(broken.body, '');
      assert.ok(logged(gyre, 'malformed cf_connect parameter'));
      await assertServes(gyre, 'uni_sse');
    });
  });

  describe('uni_websocket', () => {
    test('the connect request as first message: the connect push, publications, protocol and WebSocket pings', async () => {
      const s = await UniSocket.open(gyre);
      s.ws.send(JSON.stringify({ token: await gyre.token('42', { channels: ['news'] }) }));
      checkConnectPush(await s.first('the connect push'), ['news', '#42']);
      await gyre.server.api.publish({ channel: 'news', data: { ws: 1 } });
      assert.deepEqual((await s.next((m) => m['channel'] === 'news'))['pub']['data'], { ws: 1 });
      await gyre.server.api.publish({ channel: '#42', data: { ws: 2 } });
      assert.deepEqual((await s.next((m) => m['channel'] === '#42'))['pub']['data'], { ws: 2 });
      await s.next((m) => Object.keys(m).length === 0, { timeoutMs: 5000, what: 'a ping {}' });
      await until(() => s.pings > 0, 'a WebSocket ping frame');
      // Later messages are dropped, as in Centrifugo: the connection keeps working.
      s.ws.send('not json at all');
      s.ws.send(JSON.stringify({ token: 'another' }));
      await gyre.server.api.publish({ channel: 'news', data: { ws: 3 } });
      assert.deepEqual((await s.next((m) => m['channel'] === 'news'))['pub']['data'], { ws: 3 });
      assert.ok(s.frames.every((f) => !f.includes('\n')), 'one push per frame without join_push_messages');
      s.ws.close();
    });

    test('the connect request in cf_connect: no message needed', async () => {
      const s = await UniSocket.open(gyre, JSON.stringify({ token: await gyre.token('43') }));
      checkConnectPush(await s.first(), ['#43']);
      s.ws.close();
    });

    test('a bad token: the disconnect push 3500, then the close frame 3500', async () => {
      const s = await UniSocket.open(gyre, JSON.stringify({ token: 'bad' }));
      assert.deepEqual(await s.first(), { disconnect: { code: 3500, reason: 'invalid token' } });
      assert.deepEqual(await s.closed(), { code: 3500, reason: 'invalid token' });
      await assertServes(gyre, 'uni_websocket');
    });

    test('a malformed first message: closed with 3501, no push; a malformed cf_connect: upgrade refused with 400', async () => {
      const s = await UniSocket.open(gyre);
      s.ws.send('{"token":');
      assert.deepEqual(await s.closed(), { code: 3501, reason: 'bad request' });
      assert.equal(s.frames.length, 0, 'nothing but the close frame');
      assert.equal(await UniSocket.refusal(gyre, `?cf_connect=${encodeURIComponent('[broken')}`), 400);
      await assertServes(gyre, 'uni_websocket');
    });

    test('a first message over message_size_limit: closed with 1009', async () => {
      const s = await UniSocket.open(gyre);
      s.ws.send(JSON.stringify({ token: 'x', data: 'z'.repeat(70_000) }));
      assert.equal((await s.closed()).code, 1009);
      await assertServes(gyre, 'uni_websocket');
    });

    test('a plain request to the path: GET 400 (no upgrade), POST 405', async () => {
      assert.equal((await answerOf(gyre, PATHS.uni_websocket)).status, 400);
      assert.equal((await answerOf(gyre, PATHS.uni_websocket, { method: 'POST', body: '{}' })).status, 405);
    });
  });

  test('the transports are named to handlers and the server-side subscriptions reach each of them', async () => {
    const channel = 'everyone';
    const token = await gyre.token('55', { channels: [channel] });
    const ws = await UniSocket.open(gyre, JSON.stringify({ token }));
    const hs = await UniStream.open(gyre, 'uni_http_stream', { body: JSON.stringify({ token }) });
    const sse = await UniStream.open(gyre, 'uni_sse', { cfConnect: JSON.stringify({ token }) });
    for (const c of [ws, hs, sse]) await c.first('the connect push');
    await gyre.server.api.publish({ channel, data: { all: true } });
    for (const c of [ws, hs, sse]) assert.deepEqual((await c.next((m) => m['channel'] === channel))['pub']['data'], { all: true });
    ws.ws.close();
    hs.req.destroy();
    sse.req.destroy();
  });
});

// =================================================================================================

describe('unidirectional transports: configuration', () => {
  test('disabled (the default): 404 on every uni path', async () => {
    const g = await gyreWith({});
    assert.equal((await answerOf(g, PATHS.uni_http_stream, { method: 'POST', body: '{}' })).status, 404);
    assert.equal((await answerOf(g, PATHS.uni_sse)).status, 404);
    assert.equal(await UniSocket.refusal(g), 404);
  });

  test('handler_prefix moves an endpoint', async () => {
    const g = await gyreWith({ uni_http_stream: { enabled: true, handler_prefix: '/uni/stream' } });
    const s = await UniStream.open(g, 'uni_http_stream', { path: '/uni/stream', body: JSON.stringify({ token: await g.token('1') }) });
    assert.equal(s.status, 200);
    assert.ok('connect' in (await s.first()));
    s.req.destroy();
    assert.equal((await answerOf(g, PATHS.uni_http_stream, { method: 'POST', body: '{}' })).status, 404);
  });

  test('max_request_body_size and message_size_limit', async () => {
    const g = await gyreWith({
      ...UNI,
      uni_http_stream: { enabled: true, max_request_body_size: 100 },
      uni_sse: { enabled: true, max_request_body_size: 100 },
      uni_websocket: { enabled: true, message_size_limit: 100 },
    });
    const body = JSON.stringify({ data: 'x'.repeat(120) });
    assert.equal((await answerOf(g, PATHS.uni_http_stream, { method: 'POST', body })).status, 413);
    assert.equal((await answerOf(g, PATHS.uni_sse, { method: 'POST', body })).status, 413);
    const s = await UniSocket.open(g);
    s.ws.send(body);
    assert.equal((await s.closed()).code, 1009);
  });

  test('client.allowed_origins: another origin is refused with 403, an allowed one gets CORS headers', async () => {
    const g = await gyreWith({ ...UNI, client: { ...UNI.client, allowed_origins: ['https://app.example'] } });
    const token = await g.token('1');
    const evil = { Origin: 'https://evil.example' };
    assert.equal((await answerOf(g, PATHS.uni_http_stream, { method: 'POST', body: '{}', headers: evil })).status, 403);
    assert.equal((await answerOf(g, PATHS.uni_sse, { headers: evil })).status, 403);
    assert.equal(await UniSocket.refusal(g, '', { headers: evil }), 403);
    const preflight = await answerOf(g, PATHS.uni_http_stream, {
      method: 'OPTIONS',
      headers: { Origin: 'https://app.example', 'Access-Control-Request-Headers': 'content-type' },
    });
    assert.equal(preflight.status, 200);
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.equal(preflight.headers.get('access-control-allow-headers'), 'content-type');
    const s = await UniStream.open(g, 'uni_http_stream', { body: JSON.stringify({ token }), headers: { Origin: 'https://app.example' } });
    assert.equal(s.headers['access-control-allow-origin'], 'https://app.example');
    assert.equal(s.headers['access-control-allow-credentials'], 'true');
    assert.ok('connect' in (await s.first()));
    s.req.destroy();
  });

  test('connect_code_to_http_response: a refused connect answered with the mapped status (or 500)', async () => {
    const mapping = {
      enabled: true,
      transforms: [
        { code: 3500, to: { status_code: 401 } },
        { code: 109, to: { status_code: 403, body: 'token expired, get a new one' } },
      ],
    };
    const g = await gyreWith({ ...UNI, uni_http_stream: { enabled: true, connect_code_to_http_response: mapping }, uni_sse: { enabled: true, connect_code_to_http_response: mapping } });
    for (const kind of ['uni_http_stream', 'uni_sse'] as const) {
      const bad = await UniStream.open(g, kind, connectRequest(kind, { token: 'bad' }));
      assert.equal(bad.status, 401, kind);
      await bad.ended();
      assert.equal(bad.text, 'invalid token', 'the disconnect reason when the transform has no body');
      const expired = await UniStream.open(g, kind, connectRequest(kind, { token: await g.token('1', {}, -60) }));
      assert.equal(expired.status, 403);
      await expired.ended();
      assert.equal(expired.text, 'token expired, get a new one');
      const unmapped = await UniStream.open(g, kind, connectRequest(kind, {}));
      assert.equal(unmapped.status, 500);
      await unmapped.ended();
      assert.equal(unmapped.text, 'Internal Server Error');
      const good = await UniStream.open(g, kind, connectRequest(kind, { token: await g.token('1') }));
      assert.equal(good.status, 200);
      assert.ok('connect' in (await good.first()));
      good.req.destroy();
    }
  });

  test('connect handlers: the transport name, a disconnect, an error code mapped by connect_code_to_unidirectional_disconnect', async () => {
    const transports: string[] = [];
    const handlers = Handlers.from({
      services: {
        connect: (r) => {
          transports.push(r.transport);
          const data = (r.data ?? {}) as { deny?: boolean; fail?: boolean; other?: boolean };
          if (data.deny === true) return r.disconnect(4501, 'not you');
          if (data.fail === true) return r.error(1403, 'app says no');
          if (data.other === true) return r.error(1500, 'unmapped');
          r.respond(new ConnectResponse({ user: 'handled' }));
        },
      },
    });
    const g = await gyreWith(
      { ...UNI, client: { ...UNI.client, connect_code_to_unidirectional_disconnect: { enabled: true, transforms: [{ code: 1403, to: { code: 4403, reason: 'denied' } }] } } },
      handlers,
    );
    const ok = await UniStream.open(g, 'uni_http_stream', { body: '{"data":{}}' });
    checkConnectPush(await ok.first(), ['#handled']);
    ok.req.destroy();
    const ws = await UniSocket.open(g, JSON.stringify({ data: {} }));
    assert.ok('connect' in (await ws.first()));
    ws.ws.close();
    const sse = await UniStream.open(g, 'uni_sse', { cfConnect: '{"data":{}}' });
    assert.ok('connect' in (await sse.first()));
    sse.req.destroy();
    assert.deepEqual(transports, ['uni_http_stream', 'uni_websocket', 'uni_sse']);

    const denied = await UniStream.open(g, 'uni_http_stream', { body: '{"data":{"deny":true}}' });
    assert.deepEqual(await denied.first(), { disconnect: { code: 4501, reason: 'not you' } });
    const mapped = await UniSocket.open(g, '{"data":{"fail":true}}');
    assert.deepEqual(await mapped.first(), { disconnect: { code: 4403, reason: 'denied' } });
    assert.deepEqual(await mapped.closed(), { code: 4403, reason: 'denied' });
    const unmapped = await UniStream.open(g, 'uni_sse', { cfConnect: '{"data":{"other":true}}' });
    assert.deepEqual(await unmapped.first(), { disconnect: { code: 3004, reason: 'internal server error' } });
  });

  test('uni_websocket.join_push_messages: the pushes of one turn in one frame, separated by "\\n"', async () => {
    const g = await gyreWith({ ...UNI, uni_websocket: { enabled: true, join_push_messages: true } });
    const s = await UniSocket.open(g, JSON.stringify({ token: await g.token('1', { channels: ['joined'] }) }));
    await s.first('the connect push');
    await Promise.all(Array.from({ length: 20 }, (_, i) => g.server.api.publish({ channel: 'joined', data: { i } })));
    const got: number[] = [];
    for (let i = 0; i < 20; i++) got.push((await s.next((m) => m['channel'] === 'joined'))['pub']['data']['i'] as number);
    assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => i));
    assert.ok(s.frames.some((f) => f.split('\n').length > 1), `some frame holds several pushes (${s.frames.length} frames)`);
  });

  test('uni_websocket.disable_disconnect_push / disable_closing_handshake', async () => {
    const quiet = await gyreWith({ ...UNI, uni_websocket: { enabled: true, disable_disconnect_push: true } });
    const a = await UniSocket.open(quiet, '{"token":"bad"}');
    assert.deepEqual(await a.closed(), { code: 3500, reason: 'invalid token' });
    assert.equal(a.frames.length, 0, 'no disconnect push');
    const abrupt = await gyreWith({ ...UNI, uni_websocket: { enabled: true, disable_closing_handshake: true } });
    const b = await UniSocket.open(abrupt, '{"token":"bad"}');
    assert.deepEqual(await b.first(), { disconnect: { code: 3500, reason: 'invalid token' } });
    assert.equal((await b.closed()).code, 1006, 'no close frame');
  });

  test('older flat switches ("uni_sse": true) still turn a transport on', async () => {
    const g = await gyreWith({ uni_sse: true } as never);
    const s = await UniStream.open(g, 'uni_sse', { cfConnect: JSON.stringify({ token: await g.token('1') }) });
    assert.ok('connect' in (await s.first()));
    s.req.destroy();
  });

  test('shutdown: every uni connection gets the disconnect push 3001 and its end', async () => {
    // A shutdown.timeout longer than close() waits: connections left open by the streams would fail it.
    const g = await startGyre({ ...UNI, shutdown: { timeout: '60s' } });
    const token = await g.token('1');
    const ws = await UniSocket.open(g, JSON.stringify({ token }));
    const hs = await UniStream.open(g, 'uni_http_stream', { body: JSON.stringify({ token }) });
    const sse = await UniStream.open(g, 'uni_sse', { cfConnect: JSON.stringify({ token }) });
    for (const c of [ws, hs, sse]) await c.first();
    await g.close();
    for (const c of [ws, hs, sse]) assert.deepEqual(await c.next((m) => 'disconnect' in m), { disconnect: { code: 3001, reason: 'shutdown' } });
    assert.deepEqual(await ws.closed(), { code: 3001, reason: 'shutdown' });
    await hs.ended();
    await sse.ended();
  });
});

// =================================================================================================

describe('unidirectional transports: slow readers', () => {
  /** Publishes bursts of `chunk` (one burst per event-loop turn) until `done()` or `maxBytes`. */
  async function publishUntil(g: TestGyre, channel: string, chunk: string, done: () => boolean, maxBytes = 256 * 1024 * 1024): Promise<number> {
    let bytes = 0;
    while (!done() && bytes < maxBytes) {
      const all: Array<Promise<unknown>> = [];
      for (let i = 0; i < 4; i++) {
        bytes += chunk.length;
        all.push(g.server.api.publish({ channel, data: chunk }));
      }
      await Promise.all(all);
      await nextTurn();
    }
    return bytes;
  }

  const slowLines = (g: TestGyre, code: number): number => g.logs.filter((l) => l.msg.startsWith('client too slow') && l['code'] === code).length;

  for (const kind of ['uni_http_stream', 'uni_sse'] as const) {
    test(`${kind}: a reader that stops reading is closed with 3008, its disconnect push after what it was sent`, async () => {
      // Bursts well under the limit: only a reader that stopped reading lets the queue reach it.
      const g = await gyreWith({ ...UNI, client: { ...UNI.client, ping_interval: '25s', pong_timeout: '8s', queue_max_size: 1024 * 1024 } });
      const token = await g.token('slow', { channels: ['firehose'] });
      const s = await UniStream.open(g, kind, connectRequest(kind, { token }));
      await s.first('the connect push');
      s.res.pause();
      const published = await publishUntil(g, 'firehose', 'x'.repeat(16 * 1024), () => slowLines(g, 3008) > 0);
      assert.ok(published > 1024 * 1024, `closed only once more than queue_max_size was published (${published} bytes)`);
      assert.equal(slowLines(g, 3008), 1, `no 3008 "client too slow" line after ${published} bytes`);
      await until(() => g.server.node.clientCount === 0, 'the slow client to be unregistered');
      s.res.resume();
      assert.deepEqual(await s.next((m) => 'disconnect' in m, 'the 3008 disconnect push'), { disconnect: { code: 3008, reason: 'slow' } });
      await s.ended();
      assert.deepEqual(s.received.at(-1), { disconnect: { code: 3008, reason: 'slow' } }, 'the disconnect push is the last one');
      assert.ok(s.received.slice(1, -1).every((m) => m['channel'] === 'firehose'), 'publications before it, whole');
      await assertServes(g, kind);
    });
  }
});
