/**
 * Limits of the HTTP side: refused requests (unauthorized, body too large) are answered at once and
 * their bodies never read; headers that trickle in (slowloris) and idle keep-alive connections are
 * dropped after `http_server.read_header_timeout` / `idle_timeout`; JSON nested too deeply is a bad
 * request. The server API's `channels` patterns never backtrack and are capped; batches and
 * broadcasts are capped by `http_api.max_batch_size` and let the event loop serve others meanwhile.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { MAX_PATTERN_LENGTH } from '../../src/api/glob.js';
import { MAX_JSON_DEPTH } from '../../src/protocol/json-depth.js';
import { API_KEY, startGyre, until, type TestGyre } from '../helpers/gyre.js';
import { waitFor } from '../helpers/wait.js';

const BODY_LIMIT = 1024 * 1024;

let gyre: TestGyre;
before(async () => {
  gyre = await startGyre({
    http_server: { read_header_timeout: '300ms', read_timeout: '5s', idle_timeout: '300ms' },
    http_api: { max_request_body_size: BODY_LIMIT, max_batch_size: 1000 },
  });
});
after(() => gyre.close());

interface Upload {
  status: number;
  /** Body bytes the client managed to hand to its socket before the server ended the exchange. */
  written: number;
  total: number;
}

/**
 * POSTs a body of `total` bytes to `path`, written in 64 KiB pieces as the socket takes them, and
 * resolves once the exchange is over (the response read, or the server closed the connection).
 */
function upload(path: string, total: number, headers: Record<string, string | number>): Promise<Upload> {
  return waitFor<Upload>(`the upload to ${path} to end`, (resolve) => {
    let status = 0;
    let written = 0;
    const piece = Buffer.alloc(64 * 1024, 0x20);
    const req = request({ host: '127.0.0.1', port: gyre.port, method: 'POST', path, headers });
    const finish = () => resolve({ status, written, total });
    req.on('response', (res) => {
      status = res.statusCode ?? 0;
      res.resume();
      res.on('end', finish);
    });
    req.on('error', finish);
    const pump = (): void => {
      while (written < total && !req.destroyed) {
        written += piece.length;
        if (!req.write(piece)) return void req.once('drain', pump);
      }
      if (!req.destroyed) req.end();
    };
    pump();
  });
}

/** A raw TCP connection to the server that sends `text` and resolves when the server closes it. */
function rawHttp(text: string): Promise<{ socket: Socket; closed: Promise<string> }> {
  return waitFor('a TCP connection to the server', (resolve) => {
    const socket = connect(gyre.port, '127.0.0.1', () => {
      let received = '';
      socket.on('data', (d: Buffer) => (received += d.toString()));
      const closed = waitFor<string>('the server to close the connection', (done) => {
        socket.on('close', () => done(received));
      });
      socket.write(text);
      resolve({ socket, closed });
    });
  });
}

describe('HTTP request limits', () => {
  test('an unauthorized request is answered 401 at once and its body is not read', async () => {
    const total = 256 * 1024 * 1024;
    const r = await upload('/api/publish', total, { 'X-API-Key': 'wrong', 'Content-Type': 'application/json' });
    assert.equal(r.status, 401);
    assert.ok(r.written < total / 4, `the client could write ${r.written} of ${total} bytes: the server kept reading`);
  });

  test('a body announced larger than max_request_body_size is answered 413 without reading it', async () => {
    const total = 256 * 1024 * 1024;
    const r = await upload('/api/publish', total, { 'X-API-Key': API_KEY, 'Content-Length': total });
    assert.equal(r.status, 413);
    assert.ok(r.written < total / 4, `the client could write ${r.written} of ${total} bytes`);
  });

  test('a chunked body growing past max_request_body_size is answered 413 and the rest is not read', async () => {
    const total = 256 * 1024 * 1024;
    const r = await upload('/api/publish', total, { 'X-API-Key': API_KEY, 'Transfer-Encoding': 'chunked' });
    assert.equal(r.status, 413);
    assert.ok(r.written < total / 4, `the client could write ${r.written} of ${total} bytes`);
  });

  test('JSON nested too deeply is a bad request (400)', async () => {
    const depth = MAX_JSON_DEPTH + 10;
    const body = `{"channel":"x","data":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const res = await fetch(`${gyre.baseUrl}/api/publish`, { method: 'POST', headers: { 'X-API-Key': API_KEY }, body });
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), { error: `bad request: JSON nested deeper than ${MAX_JSON_DEPTH} levels` });
  });

  test('headers that trickle in (slowloris) are cut off after read_header_timeout', async () => {
    const { socket, closed } = await rawHttp('GET /health HTTP/1.1\r\nHost: x\r\n');
    // No more header lines ever come: the server must give up on the request.
    const answer = await closed;
    assert.match(answer, /^HTTP\/1\.1 408/);
    socket.destroy();
  });

  test('a WebSocket upgrade whose headers never finish is cut off too', async () => {
    const { socket, closed } = await rawHttp('GET /connection/websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n');
    assert.match(await closed, /^HTTP\/1\.1 408/);
    socket.destroy();
  });

  test('an idle keep-alive connection is closed after idle_timeout', async () => {
    assert.equal(gyre.server.http.keepAliveTimeout, 300);
    assert.equal(gyre.server.http.headersTimeout, 300);
    assert.equal(gyre.server.http.requestTimeout, 5000);
    const { closed } = await rawHttp('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    const answer = await closed;
    assert.match(answer, /^HTTP\/1\.1 200/);
    assert.match(answer, /Keep-Alive: timeout=0|Connection: keep-alive/i);
  });
});

describe('server API limits', () => {
  test('a channels pattern built to make a backtracking matcher explode is answered at once', async () => {
    const c = gyre.client({ token: await gyre.token('a') });
    const channel = 'a'.repeat(200);
    const sub = c.newSubscription(channel);
    sub.subscribe();
    c.connect();
    await until(() => sub.state === 'subscribed', 'the subscription to the long channel');
    const pattern = '*a'.repeat(30) + '*ab';
    const res = await gyre.api('channels', { pattern });
    assert.deepEqual(res, { result: { channels: {} } });
    const all = (await gyre.api('channels', { pattern: '*a*a*a*a*a*a*a*a' })) as { result: { channels: Record<string, unknown> } };
    assert.deepEqual(Object.keys(all.result.channels), [channel]);
    c.disconnect();
  });

  test(`a pattern longer than ${MAX_PATTERN_LENGTH} characters is a bad request`, async () => {
    const res = await gyre.api('channels', { pattern: '*'.repeat(MAX_PATTERN_LENGTH + 1) });
    assert.deepEqual(res, { error: { code: 107, message: `pattern longer than ${MAX_PATTERN_LENGTH} characters` } });
  });

  test('a batch or broadcast larger than max_batch_size is refused with 106 and a clear message', async () => {
    const commands = Array.from({ length: 1001 }, (_, i) => ({ publish: { channel: 'b', data: { i } } }));
    assert.deepEqual(await gyre.api('batch', { commands }), {
      error: { code: 106, message: '1001 commands in a batch: more than http_api.max_batch_size (1000)' },
    });
    const channels = Array.from({ length: 1001 }, (_, i) => `b${i}`);
    assert.deepEqual(await gyre.api('broadcast', { channels, data: {} }), {
      error: { code: 106, message: '1001 channels in a broadcast: more than http_api.max_batch_size (1000)' },
    });
    assert.ok(gyre.logs.some((l) => l.msg === 'server API: batch too large' && l['size'] === 1001));
  });

  test('a large batch lets the event loop serve others between chunks', async () => {
    const commands = Array.from({ length: 1000 }, (_, i) => ({ publish: { channel: 'batched', data: { i } } }));
    // Turns of the event loop that ran while the batch was being executed (the test shares the
    // server's process): a batch that blocked the loop would let none run.
    let turns = 0;
    let done = false;
    const tick = (): void => {
      if (done) return;
      turns++;
      setImmediate(tick);
    };
    setImmediate(tick);
    for (const parallel of [false, true]) {
      const result = (await gyre.server.api.execute('batch', { commands, parallel })) as { replies: unknown[] };
      assert.equal(result.replies.length, 1000);
    }
    done = true;
    assert.ok(turns >= 10, `only ${turns} event-loop turns ran during two batches of 1000 commands`);
  });
});
