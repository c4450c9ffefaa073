/**
 * The admin endpoints over real HTTP (the UI itself is tested in Chromium by ui.browser.test.ts):
 * login with the password (form or JSON) and the lock-out after repeated failures, the admin token
 * and nothing else opening the admin API and the tap, the live tap's events, bad input, the UI's
 * files with their headers, handler_prefix, internal_port / external, insecure, and no admin at all
 * when it is disabled.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { signToken } from '../../src/auth/sign.js';
import { AdminAssets } from '../../src/admin/assets.js';
import { FREE_FAILURES } from '../../src/admin/login-throttle.js';
import { rejectsConfig } from '../helpers/config.js';
import { API_KEY, once, startGyre } from '../helpers/gyre.js';
import { freePort } from '../helpers/services.js';
import { listen, until, withTimeout } from '../helpers/wait.js';

const PASSWORD = 'pw-correct horse';
const ADMIN_SECRET = 'admin-signing-secret';
const ADMIN = { admin: { enabled: true, password: PASSWORD, secret: ADMIN_SECRET } };

function login(base: string, body: string, type = 'application/x-www-form-urlencoded'): Promise<Response> {
  return fetch(`${base}/admin/auth`, { method: 'POST', headers: { 'Content-Type': type }, body });
}

async function token(base: string): Promise<string> {
  const res = await login(base, `password=${encodeURIComponent(PASSWORD)}`);
  assert.equal(res.status, 200, 'the right password logs in');
  const body = (await res.json()) as { token?: unknown };
  assert.equal(typeof body.token, 'string');
  return body.token as string;
}

function adminApi(base: string, auth: Record<string, string>, body: unknown, path = '/admin/api'): Promise<Response> {
  return fetch(`${base}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...auth }, body: JSON.stringify(body) });
}

/** A live tap read as server-sent events. */
class TapReader {
  readonly events: Array<{ event: string; data: unknown }> = [];
  private readonly abort = new AbortController();
  private done: Promise<void> | undefined;

  static async open(base: string, channel: string, auth: Record<string, string>): Promise<{ status: number; reader: TapReader | undefined; body: unknown }> {
    const r = new TapReader();
    const res = await fetch(`${base}/admin/tap?channel=${encodeURIComponent(channel)}`, { headers: auth, signal: r.abort.signal });
    if (res.status !== 200) return { status: res.status, reader: undefined, body: await res.json() };
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    r.done = r.read(res.body!);
    return { status: 200, reader: r, body: undefined };
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of body) {
        buf += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buf.indexOf('\n\n')) !== -1) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          let event = 'message';
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (data !== '') this.events.push({ event, data: JSON.parse(data) as unknown });
        }
      }
    } catch {
      // aborted
    }
  }

  async next(event: string, what: string, match: (data: Record<string, unknown>) => boolean = () => true): Promise<Record<string, unknown>> {
    let found: Record<string, unknown> | undefined;
    await until(() => {
      found = this.events.find((e) => e.event === event && match(e.data as Record<string, unknown>))?.data as Record<string, unknown> | undefined;
      return found !== undefined;
    }, `the tap to show ${what}; it showed ${JSON.stringify(this.events).slice(0, 400)}`);
    return found!;
  }

  /** Resolves when the server ends the stream. */
  ended(what: string): Promise<void> {
    return withTimeout(this.done!, what, 'TapReader.ended');
  }

  close(): void {
    this.abort.abort();
  }
}

test('admin disabled: none of its paths exist', async () => {
  const g = await startGyre();
  try {
    for (const [method, path] of [['GET', '/'], ['GET', '/admin/init'], ['POST', '/admin/auth'], ['POST', '/admin/api'], ['GET', '/admin/tap?channel=a'], ['GET', '/admin/ui/index.html']] as const) {
      const res = await fetch(`${g.baseUrl}${path}`, { method });
      assert.equal(res.status, 404, `${method} ${path}`);
    }
  } finally {
    await g.close();
  }
});

test('config: admin.enabled needs a password and a secret unless insecure; handler_prefix is checked', () => {
  rejectsConfig({ admin: { enabled: true, secret: 's' } }, 'admin.password', /must be set when admin.enabled/);
  rejectsConfig({ admin: { enabled: true, password: 'p' } }, 'admin.secret', /signs the admin tokens/);
  rejectsConfig({ admin: { handler_prefix: 'ops' } }, 'admin.handler_prefix', /start with "\/"/);
  rejectsConfig({ admin: { handler_prefix: '/ops/' } }, 'admin.handler_prefix', /not end with one/);
  rejectsConfig({ admin: { enabled: 'yes' } }, 'admin.enabled', /boolean/);
});

test('login: the password (form or JSON) gives a token that opens init and the API; a wrong one is refused and logged', async () => {
  const g = await startGyre(ADMIN);
  try {
    const before = (await (await fetch(`${g.baseUrl}/admin/init`)).json()) as Record<string, unknown>;
    assert.deepEqual({ ...before, version: typeof before['version'] }, { insecure: false, authenticated: false, edition: 'gyre', version: 'string' });

    const wrong = await login(g.baseUrl, 'password=nope');
    assert.equal(wrong.status, 400);
    assert.deepEqual(await wrong.json(), { error: 'wrong password' });
    assert.ok(g.logs.some((l) => l.msg === 'admin: wrong password'), 'the failure is logged');

    const viaJson = await login(g.baseUrl, JSON.stringify({ password: PASSWORD }), 'application/json');
    assert.equal(viaJson.status, 200);
    const t = await token(g.baseUrl);
    const auth = { Authorization: `token ${t}` };

    const after = (await (await fetch(`${g.baseUrl}/admin/init`, { headers: auth })).json()) as Record<string, unknown>;
    assert.equal(after['authenticated'], true);
    const info = (await (await adminApi(g.baseUrl, auth, { method: 'info', params: {} })).json()) as { result: { nodes: unknown[] } };
    assert.equal(info.result.nodes.length, 1);
    // The method in the path works too, and the query form of the token.
    const pub = await adminApi(g.baseUrl, {}, { channel: 'news', data: { n: 1 } }, `/admin/api/publish?token=${encodeURIComponent(t)}`);
    assert.equal(((await pub.json()) as { result: { offset: number } }).result.offset, 1);
    // An API error comes back as the API's error.
    const bad = (await (await adminApi(g.baseUrl, auth, { method: 'nope', params: {} })).json()) as { error: { code: number } };
    assert.equal(bad.error.code, 104);
  } finally {
    await g.close();
  }
});

test('only the admin token opens the admin API and the tap: no token, the API key, a client token, a forged or tampered token are refused', async () => {
  const g = await startGyre(ADMIN);
  try {
    const t = await token(g.baseUrl);
    const [h, p] = t.split('.');
    const others: Array<[string, Record<string, string>]> = [
      ['no token', {}],
      ['the API key', { 'X-API-Key': API_KEY }],
      ['the API key as apikey', { Authorization: `apikey ${API_KEY}` }],
      ['a client connection token', { Authorization: `token ${await g.token('alice')}` }],
      ['a token signed with the admin secret for another audience', { Authorization: `token ${await signToken({ sub: 'admin' }, { hmacSecret: ADMIN_SECRET, ttlSeconds: 3600 })}` }],
      ['a tampered token', { Authorization: `token ${h}.${p}.AAAA${t.split('.')[2]!.slice(4)}` }],
      ['a bearer header', { Authorization: `Bearer ${t}` }],
    ];
    for (const [what, auth] of others) {
      assert.equal((await adminApi(g.baseUrl, auth, { method: 'info', params: {} })).status, 401, `admin API with ${what}`);
      const tap = await TapReader.open(g.baseUrl, 'news', auth);
      assert.equal(tap.status, 401, `tap with ${what}`);
      const init = (await (await fetch(`${g.baseUrl}/admin/init`, { headers: auth })).json()) as Record<string, unknown>;
      assert.equal(init['authenticated'], false, `init with ${what}`);
    }
    assert.ok(g.logs.some((l) => l.msg === 'admin API: unauthorized request'), 'refusals are logged');
    // The admin token is not an API key for the server API either.
    const serverApi = await fetch(`${g.baseUrl}/api/info`, { method: 'POST', headers: { Authorization: `token ${t}` }, body: '{}' });
    assert.equal(serverApi.status, 401);
  } finally {
    await g.close();
  }
});

test(`repeated wrong passwords: after ${FREE_FAILURES} the address is locked out (429, Retry-After), even for the right password, until the lock ends`, async () => {
  const g = await startGyre(ADMIN);
  try {
    for (let i = 1; i < FREE_FAILURES; i++) assert.equal((await login(g.baseUrl, 'password=guess' + i)).status, 400, `failure ${i}`);
    const locking = await login(g.baseUrl, 'password=guess-last');
    assert.equal(locking.status, 429);
    assert.equal(locking.headers.get('retry-after'), '1');
    assert.match(((await locking.json()) as { error: string }).error, /too many failed logins: try again in 1 s/);
    const rightButLocked = await login(g.baseUrl, `password=${encodeURIComponent(PASSWORD)}`);
    assert.equal(rightButLocked.status, 429, 'the right password waits too');
    // Once the lock ends, the right password gets in (and clears the record).
    let status = 0;
    await until(async () => (status = (await login(g.baseUrl, `password=${encodeURIComponent(PASSWORD)}`)).status) === 200, {
      what: `the lock-out to end (last status ${status})`,
      stepMs: 250,
    });
    assert.equal((await login(g.baseUrl, 'password=again')).status, 400, 'a fresh record: the next failure is a plain 400');
  } finally {
    await g.close();
  }
});

test('bad input: oversized, malformed and wrong-method logins, a tap without or with a bad channel, an unknown admin path', async () => {
  const g = await startGyre(ADMIN);
  try {
    assert.equal((await login(g.baseUrl, 'password=' + 'x'.repeat(20_000))).status, 413);
    assert.equal((await login(g.baseUrl, '{"password":', 'application/json')).status, 400);
    assert.equal((await login(g.baseUrl, JSON.stringify({ password: 42 }), 'application/json')).status, 400);
    assert.equal((await fetch(`${g.baseUrl}/admin/auth`)).status, 405);
    const auth = { Authorization: `token ${await token(g.baseUrl)}` };
    const noChannel = await fetch(`${g.baseUrl}/admin/tap`, { headers: auth });
    assert.equal(noChannel.status, 400);
    assert.deepEqual(await noChannel.json(), { error: 'channel is required' });
    const unknownNs = await TapReader.open(g.baseUrl, 'nons:x', auth);
    assert.equal(unknownNs.status, 400);
    assert.match((unknownNs.body as { error: string }).error, /bad channel/);
    assert.equal((await TapReader.open(g.baseUrl, 'x'.repeat(300), auth)).status, 400, 'longer than channel.max_length');
    assert.equal((await fetch(`${g.baseUrl}/admin/tap?channel=a`, { method: 'POST', headers: auth })).status, 405);
    assert.equal((await adminApi(g.baseUrl, auth, '{not json')).status, 200, 'a JSON string is a body the API answers');
    const malformed = await fetch(`${g.baseUrl}/admin/api`, { method: 'POST', headers: auth, body: '{"method":' });
    assert.equal(malformed.status, 400);
    assert.equal((await fetch(`${g.baseUrl}/admin/nothing`, { headers: auth })).status, 404);
    assert.equal((await fetch(`${g.baseUrl}/admin/ui/..%2Fpackage.json`)).status, 404);
    // The server still serves.
    assert.equal((await adminApi(g.baseUrl, auth, { method: 'info', params: {} })).status, 200);
  } finally {
    await g.close();
  }
});

test('the tap shows API and client publications, joins and leaves as they pass, without counting as a subscriber', async () => {
  const g = await startGyre(ADMIN);
  const c = g.client();
  try {
    const auth = { Authorization: `token ${await token(g.baseUrl)}` };
    const opened = await TapReader.open(g.baseUrl, 'room', auth);
    assert.equal(opened.status, 200);
    const tap = opened.reader!;
    await tap.next('ready', 'the ready event');
    // Nobody subscribed: the channel is not listed, and the node counts no subscription.
    const channels = (await g.api('channels', {})) as { result: { channels: Record<string, unknown> } };
    assert.deepEqual(channels.result.channels, {});
    const info = (await g.api('info', {})) as { result: { nodes: Array<{ num_subs: number }> } };
    assert.equal(info.result.nodes[0]!.num_subs, 0);

    await g.api('publish', { channel: 'room', data: { text: 'from the API' }, tags: { k: 'v' } });
    const apiPub = await tap.next('publication', 'the API publication', (d) => (d['pub'] as { data: { text: string } }).data.text === 'from the API');
    assert.deepEqual(apiPub, { channel: 'room', pub: { data: { text: 'from the API' }, offset: 1, tags: { k: 'v' } } });

    c.setToken(await g.token('bob'));
    c.connect();
    const sub = c.newSubscription('room');
    const subscribed = once(sub, 'subscribed', 'bob to subscribe to room');
    sub.subscribe();
    await subscribed;
    const join = await tap.next('join', "bob's join");
    assert.equal((join['info'] as { user: string }).user, 'bob');
    await sub.publish({ text: 'from bob' });
    const clientPub = await tap.next('publication', "bob's publication", (d) => (d['pub'] as { data: { text: string } }).data.text === 'from bob');
    assert.equal(((clientPub['pub'] as { info: { user: string } }).info).user, 'bob');
    sub.unsubscribe();
    await tap.next('leave', "bob's leave");
    tap.close();
    // A closed tap leaves nothing behind: a new one works the same.
    const again = (await TapReader.open(g.baseUrl, 'room', auth)).reader!;
    await again.next('ready', 'the second tap ready');
    await g.api('publish', { channel: 'room', data: { n: 2 } });
    await again.next('publication', 'the publication on the second tap', (d) => (d['pub'] as { data: { n?: number } }).data.n === 2);
    // Shutdown ends an open tap (it does not hold the shutdown).
    const ended = again.ended('the tap stream to end at shutdown');
    c.disconnect();
    await g.close();
    await ended;
  } finally {
    c.disconnect();
    await g.close();
  }
});

test('the UI files: index.html with CSP and revalidation, hashed files cached for a year, ETag / 304, gzip and brotli', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gyre-admin-ui-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>x</title><script type="module" src="admin/ui/app-0123abcd.js"></script>');
  writeFileSync(join(dir, 'app-0123abcd.js'), 'console.log("x");\n'.repeat(100));
  const assets = new AdminAssets(dir);
  const server = createServer((req, res) => {
    const name = (req.url ?? '/').slice(1);
    if (assets.has(name)) assets.serve(name, req, res);
    else res.writeHead(404).end();
  });
  await listen(server);
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  try {
    const index = await fetch(`${base}/index.html`);
    assert.equal(index.status, 200);
    assert.match(index.headers.get('content-type')!, /^text\/html/);
    assert.equal(index.headers.get('cache-control'), 'no-cache');
    assert.match(index.headers.get('content-security-policy')!, /default-src 'self'; script-src 'self'/);
    assert.equal(index.headers.get('x-frame-options'), 'DENY');
    assert.equal(index.headers.get('x-content-type-options'), 'nosniff');
    const etag = index.headers.get('etag')!;
    const again = await fetch(`${base}/index.html`, { headers: { 'If-None-Match': etag } });
    assert.equal(again.status, 304);
    const js = await fetch(`${base}/app-0123abcd.js`, { headers: { 'Accept-Encoding': 'br' } });
    assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(js.headers.get('content-encoding'), 'br');
    assert.match(await js.text(), /^console\.log/, 'fetch decodes the brotli body back to the file');
    const gz = await fetch(`${base}/app-0123abcd.js`, { headers: { 'Accept-Encoding': 'gzip' } });
    assert.equal(gz.headers.get('content-encoding'), 'gzip');
    assert.equal(new AdminAssets(join(dir, 'missing')).present, false);
  } finally {
    server.close();
  }
});

test('the real UI is served at "/" and its files under /admin/ui/; handler_prefix moves everything; insecure needs no token', async () => {
  const g = await startGyre(ADMIN);
  const ops = await startGyre({ admin: { enabled: true, insecure: true, handler_prefix: '/ops' } });
  try {
    const page = await fetch(`${g.baseUrl}/`);
    assert.equal(page.status, 200);
    const html = await page.text();
    const script = /src="(admin\/ui\/[^"]+\.js)"/.exec(html);
    assert.ok(script, `index.html loads the app script: ${html.slice(0, 300)}`);
    const app = await fetch(`${g.baseUrl}/${script[1]}`);
    assert.equal(app.status, 200);
    assert.match(app.headers.get('content-type')!, /^text\/javascript/);

    const redirect = await fetch(`${ops.baseUrl}/ops?x=1`, { redirect: 'manual' });
    assert.equal(redirect.status, 308);
    assert.equal(redirect.headers.get('location'), '/ops/?x=1');
    assert.equal((await fetch(`${ops.baseUrl}/ops/`)).status, 200);
    assert.equal((await fetch(`${ops.baseUrl}/`)).status, 404, 'nothing at "/" with a prefix');
    assert.deepEqual(((await (await fetch(`${ops.baseUrl}/ops/admin/init`)).json()) as Record<string, unknown>)['authenticated'], true);
    const info = await adminApi(ops.baseUrl, {}, { method: 'info', params: {} }, '/ops/admin/api');
    assert.equal(info.status, 200, 'insecure: the admin API without a token');
    const loginOff = await fetch(`${ops.baseUrl}/ops/admin/auth`, { method: 'POST', body: 'password=x' });
    assert.equal(loginOff.status, 400);
    assert.match(((await loginOff.json()) as { error: string }).error, /admin login is off/);
  } finally {
    await g.close();
    await ops.close();
  }
});

test('with http_server.internal_port, admin is served there only, unless admin.external', async () => {
  const internal = await startGyre({ ...ADMIN, http_server: { internal_port: await freePort() } });
  const external = await startGyre({ admin: { ...ADMIN.admin, external: true }, http_server: { internal_port: await freePort() } });
  try {
    const ip = internal.server.internalPort!;
    assert.equal((await fetch(`http://127.0.0.1:${ip}/admin/init`)).status, 200);
    assert.equal((await fetch(`${internal.baseUrl}/admin/init`)).status, 404);
    assert.equal((await fetch(`${external.baseUrl}/admin/init`)).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${external.server.internalPort!}/admin/init`)).status, 404);
  } finally {
    await internal.close();
    await external.close();
  }
});
