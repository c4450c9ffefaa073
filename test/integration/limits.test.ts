/** Connection rate limit, single connection per user, and cache-mode recovery. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import WebSocket from 'ws';
import { startGyre } from '../helpers/gyre.js';
import { waitFor } from '../helpers/wait.js';

function upgradeStatus(url: string): Promise<number> {
  return waitFor(`the upgrade of ${url} to open or be refused`, (resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => {
      ws.terminate();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', (e) => {
      if (!/Unexpected server response/.test(e.message)) reject(e);
    });
  });
}

test('client.connection_rate_limit refuses upgrades over the limit with 503 and keeps serving', async () => {
  const gyre = await startGyre({ client: { connection_rate_limit: 3 } });
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push(await upgradeStatus(gyre.wsUrl));
    // A second boundary may fall inside the loop, so count: at least one refusal, at most 3 per second.
    assert.ok(statuses.includes(503), `statuses: ${statuses.join(',')}`);
    assert.ok(gyre.logs.some((l) => /connection rate limit/.test(l.msg)));
    const res = await fetch(`${gyre.baseUrl}/health`);
    assert.equal(res.status, 200);
  } finally {
    await gyre.close();
  }
});

test('personal channel single_connection: a new connection of the user closes the older one (3504)', async () => {
  const gyre = await startGyre({
    client: { subscribe_to_user_personal_channel: { enabled: true, single_connection: true } },
    channel: { without_namespace: { presence: true } },
  });
  try {
    const first = await gyre.raw();
    const r1 = await first.connect(await gyre.token('42'));
    assert.ok(r1['connect'] !== undefined);
    const second = await gyre.raw();
    const r2 = await second.connect(await gyre.token('42'));
    assert.ok(r2['connect'] !== undefined);
    assert.equal((await first.closed).code, 3504);
    assert.equal(gyre.server.node.userClientCount('42'), 1);
  } finally {
    await gyre.close();
  }
});

test('force_recovery_mode cache: a resubscribe gets only the latest publication, recovered', async () => {
  const gyre = await startGyre({
    channel: {
      namespaces: [
        { name: 'cache', history_size: 10, history_ttl: '60s', force_recovery: true, force_recovery_mode: 'cache', allow_subscribe_for_client: true },
      ],
    },
  });
  try {
    const s = await gyre.raw();
    await s.connect(await gyre.token('1'));
    s.sendJson({ id: 2, subscribe: { channel: 'cache:x' } });
    const first = (await s.reply(2))['subscribe'] as { epoch: string; offset?: number };
    for (let i = 1; i <= 3; i++) await gyre.api('publish', { channel: 'cache:x', data: { i } });
    const other = await gyre.raw();
    await other.connect(await gyre.token('2'));
    other.sendJson({ id: 2, subscribe: { channel: 'cache:x', recover: true, epoch: first.epoch, offset: first.offset ?? 0 } });
    const res = (await other.reply(2))['subscribe'] as { recovered: boolean; publications: Array<{ data: { i: number }; offset: number }> };
    assert.equal(res.recovered, true);
    assert.deepEqual(
      res.publications.map((p) => p.data),
      [{ i: 3 }],
    );
  } finally {
    await gyre.close();
  }
});

