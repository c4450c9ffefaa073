/** `http_server.internal_port`: the server API and health endpoint move off the public port. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { API_KEY, startGyre } from '../helpers/gyre.js';
import { freePort } from '../helpers/services.js';


test('with internal_port the API and health answer only there; clients still connect on the public port', async () => {
  const internal = await freePort();
  const gyre = await startGyre({ http_server: { internal_port: internal } });
  try {
    assert.equal(gyre.server.internalPort, internal);
    const publish = (port: number) =>
      fetch(`http://127.0.0.1:${port}/api/publish`, {
        method: 'POST',
        headers: { 'X-API-Key': API_KEY },
        body: JSON.stringify({ channel: 'news', data: { n: 1 } }),
      });
    assert.equal((await publish(gyre.port)).status, 404, 'not on the public port');
    assert.equal((await fetch(`${gyre.baseUrl}/health`)).status, 404);
    const res = await publish(internal);
    assert.equal(res.status, 200);
    assert.ok('result' in ((await res.json()) as object));
    assert.equal((await fetch(`http://127.0.0.1:${internal}/health`)).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${internal}/connection/websocket`)).status, 404, 'no client endpoint inside');
    const s = await gyre.raw();
    const reply = await s.connect(await gyre.token('1'));
    assert.ok(reply['connect'] !== undefined, 'clients connect on the public port');
  } finally {
    await gyre.close();
  }
});
