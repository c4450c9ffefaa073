/**
 * The admin endpoints under `gyre serve --workers 2`: a token issued by one worker is good on every
 * worker (each request on a fresh connection, so the round-robin hand-off spreads them), and a tap
 * opened on one worker shows the publications made through every worker.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import { until } from '../helpers/wait.js';
import { API_KEY, BASE_CONFIG, startWorkers } from '../helpers/workers.js';

/** A POST on a connection of its own (no keep-alive), so consecutive calls reach different workers. */
function postFresh(port: number, path: string, headers: Record<string, string>, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent: false, headers: { ...headers, Connection: 'close' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('two workers: one admin token works on both, and a tap on one sees publications made through either', async () => {
  const g = await startWorkers({
    ...BASE_CONFIG,
    log: { level: 'info' },
    http_server: { port: 0, address: '127.0.0.1' },
    admin: { enabled: true, password: 'pw', secret: 'admin-secret' },
    workers: 2,
  });
  const abort = new AbortController();
  try {
    const login = await postFresh(g.port, '/admin/auth', { 'Content-Type': 'application/x-www-form-urlencoded' }, 'password=pw');
    assert.equal(login.status, 200, login.body);
    const token = (JSON.parse(login.body) as { token: string }).token;
    for (let i = 0; i < 4; i++) {
      const info = await postFresh(g.port, '/admin/api', { Authorization: `token ${token}` }, JSON.stringify({ method: 'info', params: {} }));
      assert.equal(info.status, 200, `admin API call ${i} on a fresh connection`);
      assert.equal((JSON.parse(info.body) as { result: { nodes: unknown[] } }).result.nodes.length, 2);
    }

    const res = await fetch(`${g.baseUrl}/admin/tap?channel=feed`, { headers: { Authorization: `token ${token}` }, signal: abort.signal });
    assert.equal(res.status, 200);
    let text = '';
    void (async () => {
      const decoder = new TextDecoder();
      try {
        for await (const chunk of res.body!) text += decoder.decode(chunk, { stream: true });
      } catch {
        // aborted at the end
      }
    })();
    await until(() => text.includes('event: ready'), { what: 'the tap to be ready', timeoutMs: 20_000 });
    for (let i = 0; i < 4; i++) {
      const pub = await postFresh(g.port, '/api/publish', { 'X-API-Key': API_KEY }, JSON.stringify({ channel: 'feed', data: { i } }));
      assert.equal(pub.status, 200, pub.body);
    }
    await until(() => [0, 1, 2, 3].every((i) => text.includes(`"data":{"i":${i}}`)), {
      what: `the tap to show the 4 publications made through both workers; it showed: ${text.slice(0, 500)}`,
      timeoutMs: 20_000,
    });
  } finally {
    abort.abort();
    await g.close();
  }
});
