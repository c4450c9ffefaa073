/**
 * Channels over real sockets: namespaces, every allow_* permission flag for authenticated,
 * anonymous and subscribed clients, private (`$`) and user-limited (`#`) channels, channel_regex
 * and max_length, presence, join/leave pushes, client publish, client history, and insecure mode.
 * The real `centrifuge` client is used throughout; raw WebSockets where the exact wire matters.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type {
  Centrifuge,
  JoinContext,
  LeaveContext,
  PublicationContext,
  Subscription,
  SubscribedContext,
  SubscriptionOptions,
} from 'centrifuge';
import { barrier, once, startGyre, until, type RawSocket, type TestGyre } from '../helpers/gyre.js';
import { waitFor } from '../helpers/wait.js';

const HISTORY = { presence: true, history_size: 10, history_ttl: '60s' };

let gyre: TestGyre;
before(async () => {
  gyre = await startGyre({
    client: { allow_anonymous_connect_without_token: true, history_max_publication_limit: 3 },
    channel: {
      max_length: 40,
      without_namespace: { allow_user_limited_channels: true },
      namespaces: [
        // Nothing allowed.
        { name: 'locked', ...HISTORY },
        // Authenticated clients only.
        {
          name: 'client',
          ...HISTORY,
          allow_subscribe_for_client: true,
          allow_publish_for_client: true,
          allow_presence_for_client: true,
          allow_history_for_client: true,
        },
        // Client flags extended to anonymous users.
        {
          name: 'anon',
          ...HISTORY,
          allow_subscribe_for_client: true,
          allow_subscribe_for_anonymous: true,
          allow_publish_for_client: true,
          allow_publish_for_anonymous: true,
          allow_presence_for_client: true,
          allow_presence_for_anonymous: true,
          allow_history_for_client: true,
          allow_history_for_anonymous: true,
        },
        // Anonymous flags alone grant nothing (as in Centrifugo they only extend the others).
        {
          name: 'anononly',
          ...HISTORY,
          allow_subscribe_for_anonymous: true,
          allow_publish_for_anonymous: true,
          allow_presence_for_anonymous: true,
          allow_history_for_anonymous: true,
        },
        // Subscribers (authenticated) only.
        {
          name: 'sub',
          ...HISTORY,
          allow_subscribe_for_client: true,
          allow_subscribe_for_anonymous: true,
          allow_publish_for_subscriber: true,
          allow_presence_for_subscriber: true,
          allow_history_for_subscriber: true,
        },
        // Subscribers, anonymous ones too.
        {
          name: 'subanon',
          ...HISTORY,
          allow_subscribe_for_client: true,
          allow_subscribe_for_anonymous: true,
          allow_publish_for_subscriber: true,
          allow_publish_for_anonymous: true,
          allow_presence_for_subscriber: true,
          allow_presence_for_anonymous: true,
          allow_history_for_subscriber: true,
          allow_history_for_anonymous: true,
        },
        { name: 'ul', allow_user_limited_channels: true, allow_subscribe_for_client: true },
        { name: 'ids', channel_regex: '^[0-9]+$', allow_subscribe_for_client: true },
        { name: 'jl', presence: true, join_leave: true, force_push_join_leave: true, allow_subscribe_for_client: true },
        {
          name: 'jlask',
          presence: true,
          join_leave: true,
          allow_subscribe_for_client: true,
          allow_presence_for_subscriber: true,
        },
        // join_leave without any presence permission: a client cannot ask for the pushes.
        { name: 'jlnoperm', presence: true, join_leave: true, allow_subscribe_for_client: true },
        {
          name: 'bare',
          allow_subscribe_for_client: true,
          allow_publish_for_client: true,
          allow_presence_for_client: true,
          allow_history_for_client: true,
        },
      ],
    },
  });
});
after(() => gyre.close());

// ---- helpers ----

/** A connected `centrifuge` client: for `user`, or anonymous without a token when `user` is undefined. */
async function connect(user?: string, claims: Record<string, unknown> = {}): Promise<{ c: Centrifuge; id: string }> {
  const c = user === undefined ? gyre.client() : gyre.client({ token: await gyre.token(user, claims) });
  const connected = once<{ client: string }>(c, 'connected');
  c.connect();
  return { c, id: (await connected).client };
}

type Outcome = { ok: true; sub: Subscription; ctx: SubscribedContext } | { ok: false; sub: Subscription; code: number };

/** Subscribes and resolves with the subscribed context or the code the subscription ended with. */
function trySubscribe(c: Centrifuge, channel: string, opts: Partial<SubscriptionOptions> = {}): Promise<Outcome> {
  const sub = c.newSubscription(channel, opts);
  return waitFor(`subscribed or unsubscribed on "${channel}"`, (resolve) => {
    sub.once('subscribed', (ctx) => resolve({ ok: true, sub, ctx }));
    sub.once('unsubscribed', (ctx) => resolve({ ok: false, sub, code: ctx.code }));
    sub.subscribe();
  });
}

async function subscribe(c: Centrifuge, channel: string, opts: Partial<SubscriptionOptions> = {}): Promise<Subscription> {
  const o = await trySubscribe(c, channel, opts);
  assert.ok(o.ok, `subscribe to ${channel} failed with ${o.ok ? '' : o.code}`);
  return o.sub;
}

async function subscribeCode(c: Centrifuge, channel: string, opts: Partial<SubscriptionOptions> = {}): Promise<number> {
  const o = await trySubscribe(c, channel, opts);
  assert.equal(o.ok, false, `subscribe to ${channel} should fail`);
  c.removeSubscription(o.sub);
  return o.ok ? 0 : o.code;
}

/** The error code a call rejects with; 0 when it succeeds. */
async function codeOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 0;
  } catch (e) {
    return (e as { code: number }).code;
  }
}

/** Outcomes of publish, presence, presence_stats and history by a client on a channel (0 = allowed). */
async function readWrite(c: Centrifuge, channel: string): Promise<Record<string, number>> {
  return {
    publish: await codeOf(c.publish(channel, { x: 1 })),
    presence: await codeOf(c.presence(channel)),
    presence_stats: await codeOf(c.presenceStats(channel)),
    history: await codeOf(c.history(channel, { limit: 1 })),
  };
}

const ALLOWED = { publish: 0, presence: 0, presence_stats: 0, history: 0 };
const DENIED = { publish: 103, presence: 103, presence_stats: 103, history: 103 };

/** A raw socket connected with a token for `user`. */
async function rawConnected(user: string, claims: Record<string, unknown> = {}): Promise<{ ws: RawSocket; id: string }> {
  const ws = await gyre.raw();
  const reply = await ws.connect(await gyre.token(user, claims));
  const result = reply['connect'] as { client: string } | undefined;
  assert.ok(result, `connect failed: ${JSON.stringify(reply)}`);
  return { ws, id: result.client };
}

// ---- namespaces ----

describe('namespaces', () => {
  test('an unknown namespace is 102 for subscribe, publish, presence and history', async () => {
    const { c } = await connect('u1');
    assert.equal(await subscribeCode(c, 'nope:x'), 102);
    assert.deepEqual(await readWrite(c, 'nope:x'), { publish: 102, presence: 102, presence_stats: 102, history: 102 });
    // A known namespace in the same connection works.
    await subscribe(c, 'client:x');
  });

  test('an unknown namespace is 102 on the wire, with the exact error reply', async () => {
    const { ws } = await rawConnected('u1');
    ws.sendJson({ id: 2, subscribe: { channel: 'nope:x' } });
    assert.deepEqual(await ws.reply(2), { id: 2, error: { code: 102, message: 'unknown channel' } });
    // The connection stays usable.
    ws.sendJson({ id: 3, subscribe: { channel: 'client:x' } });
    assert.ok('subscribe' in (await ws.reply(3)));
  });

  test('channel_regex: a matching name subscribes, a mismatch is rejected with 107', async () => {
    const { c } = await connect('u1');
    await subscribe(c, 'ids:12345');
    assert.equal(await subscribeCode(c, 'ids:12a'), 107);
    assert.equal(await codeOf(c.publish('ids:abc', {})), 107);
  });

  test('max_length: a name of max_length works, one character more is 107', async () => {
    const { c } = await connect('u1');
    const ok = 'client:' + 'x'.repeat(40 - 'client:'.length);
    assert.equal(ok.length, 40);
    await subscribe(c, ok);
    assert.equal(await subscribeCode(c, ok + 'y'), 107);
    assert.equal(await codeOf(c.publish(ok + 'y', {})), 107);
  });

  test('non-ASCII channel names are 107', async () => {
    const { ws } = await rawConnected('u1');
    ws.sendJson({ id: 2, subscribe: { channel: 'client:café' } });
    assert.deepEqual(await ws.reply(2), { id: 2, error: { code: 107, message: 'bad request' } });
    ws.sendJson({ id: 3, publish: { channel: 'client:日本', data: {} } });
    assert.deepEqual(await ws.reply(3), { id: 3, error: { code: 107, message: 'bad request' } });
  });
});

// ---- permissions ----

describe('permission flags', () => {
  test('nothing allowed: every operation is 103 for authenticated and anonymous clients', async () => {
    const { c: user } = await connect('u1');
    const { c: anon } = await connect();
    for (const c of [user, anon]) {
      assert.equal(await subscribeCode(c, 'locked:a'), 103);
      assert.deepEqual(await readWrite(c, 'locked:a'), DENIED);
    }
  });

  test('allow_*_for_client: authenticated allowed, anonymous denied', async () => {
    const { c: user } = await connect('u1');
    const { c: anon } = await connect();
    await subscribe(user, 'client:a');
    assert.deepEqual(await readWrite(user, 'client:b'), ALLOWED);
    assert.equal(await subscribeCode(anon, 'client:a'), 103);
    assert.deepEqual(await readWrite(anon, 'client:b'), DENIED);
  });

  test('allow_*_for_anonymous with the client flags: anonymous allowed too', async () => {
    const { c: user } = await connect('u1');
    const { c: anon } = await connect();
    await subscribe(user, 'anon:a');
    await subscribe(anon, 'anon:a');
    assert.deepEqual(await readWrite(user, 'anon:b'), ALLOWED);
    assert.deepEqual(await readWrite(anon, 'anon:b'), ALLOWED);
  });

  test('allow_*_for_anonymous alone grants nothing', async () => {
    const { c: user } = await connect('u1');
    const { c: anon } = await connect();
    for (const c of [user, anon]) {
      assert.equal(await subscribeCode(c, 'anononly:a'), 103);
      assert.deepEqual(await readWrite(c, 'anononly:a'), DENIED);
    }
  });

  test('allow_*_for_subscriber: only once subscribed, and not for anonymous subscribers', async () => {
    const { c: user } = await connect('u1');
    const { c: anon } = await connect();
    assert.deepEqual(await readWrite(user, 'sub:a'), DENIED);
    const sub = await subscribe(user, 'sub:a');
    assert.deepEqual(await readWrite(user, 'sub:a'), ALLOWED);
    // Another channel of the namespace is still denied.
    assert.deepEqual(await readWrite(user, 'sub:b'), DENIED);
    // After unsubscribing, denied again.
    const unsubscribed = once(sub, 'unsubscribed');
    sub.unsubscribe();
    await unsubscribed;
    assert.deepEqual(await readWrite(user, 'sub:a'), DENIED);

    await subscribe(anon, 'sub:a');
    assert.deepEqual(await readWrite(anon, 'sub:a'), DENIED);
  });

  test('allow_*_for_subscriber with the anonymous flags: anonymous subscribers allowed', async () => {
    const { c: anon } = await connect();
    assert.deepEqual(await readWrite(anon, 'subanon:a'), DENIED);
    await subscribe(anon, 'subanon:a');
    assert.deepEqual(await readWrite(anon, 'subanon:a'), ALLOWED);
  });

  test('an anonymous connection token (sub "") is anonymous', async () => {
    const { c, id } = await connect('');
    assert.equal(await subscribeCode(c, 'client:a'), 103);
    await subscribe(c, 'anon:tok');
    const { clients } = await c.presence('anon:tok');
    assert.equal(clients[id]?.user, '');
  });

  test('a connection without token is refused unless allow_anonymous_connect_without_token', async () => {
    const strict = await startGyre();
    try {
      const ws = await strict.raw();
      ws.sendJson({ id: 1, connect: {} });
      assert.equal((await ws.closed).code, 3501);
    } finally {
      await strict.close();
    }
  });
});

// ---- private and user-limited channels ----

describe('private channels', () => {
  test('a $ channel needs a subscription token, even with allow_subscribe_for_client', async () => {
    const { c } = await connect('alice');
    assert.equal(await subscribeCode(c, '$secret'), 103);
    assert.equal(await subscribeCode(c, '$client:secret'), 103);
    const token = await gyre.token('alice', { channel: '$secret' });
    await subscribe(c, '$secret', { token });
  });

  test('a subscription token alone grants subscribe in a namespace that allows nothing', async () => {
    const { c, id } = await connect('alice');
    // Without a token both are refused: the token is what grants the subscription.
    assert.equal(await subscribeCode(c, '$locked:x'), 103);
    assert.equal(await subscribeCode(c, 'locked:y'), 103);
    const priv = await trySubscribe(c, '$locked:x', { token: await gyre.token('alice', { channel: '$locked:x' }) });
    assert.equal(priv.ok, true, `subscribe to $locked:x with a token: ${priv.ok ? '' : priv.code}`);
    const plain = await trySubscribe(c, 'locked:y', { token: await gyre.token('alice', { channel: 'locked:y' }) });
    assert.equal(plain.ok, true, `subscribe to locked:y with a token: ${plain.ok ? '' : plain.code}`);
    assert.equal(priv.sub.state, 'subscribed');
    assert.equal(plain.sub.state, 'subscribed');
    // Both subscriptions are live: publications reach them, and they are in presence.
    for (const [channel, sub] of [
      ['$locked:x', priv.sub],
      ['locked:y', plain.sub],
    ] as const) {
      const got = once<PublicationContext>(sub, 'publication', `publication on ${channel}`);
      await gyre.api('publish', { channel, data: { to: channel } });
      assert.deepEqual((await got).data, { to: channel });
      const presence = (await gyre.api('presence', { channel }))['result'] as { presence: Record<string, { user: string }> };
      assert.deepEqual(Object.keys(presence.presence), [id]);
      assert.equal(presence.presence[id]!.user, 'alice');
    }
    // The token grants the subscription only: publishing in the namespace is still denied.
    assert.equal(await codeOf(c.publish('locked:y', { n: 1 })), 103);
  });

  test('a subscription token with a bad signature is 103', async () => {
    const { c } = await connect('alice');
    const token = await gyre.token('alice', { channel: '$secret' });
    const forged = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    assert.equal(await subscribeCode(c, '$secret', { token: forged }), 103);
  });

  test('a subscription token for another user or channel closes the connection with 3500', async () => {
    for (const claims of [
      { sub: 'mallory', channel: '$secret' },
      { sub: 'alice', channel: '$other' },
    ]) {
      const { ws } = await rawConnected('alice');
      ws.sendJson({ id: 2, subscribe: { channel: '$secret', token: await gyre.token(claims.sub, { channel: claims.channel }) } });
      const closed = await ws.closed;
      assert.equal(closed.code, 3500);
      assert.equal(
        ws.messages.some((m) => m['id'] === 2 && m['subscribe'] !== undefined),
        false,
      );
    }
  });

  test('an expired subscription token is 109', async () => {
    const { ws } = await rawConnected('alice');
    const expired = await gyre.token('alice', { channel: '$secret' }, -10);
    ws.sendJson({ id: 2, subscribe: { channel: '$secret', token: expired } });
    assert.deepEqual(await ws.reply(2), { id: 2, error: { code: 109, message: 'token expired' } });
    // A fresh token on the same connection works.
    ws.sendJson({ id: 3, subscribe: { channel: '$secret', token: await gyre.token('alice', { channel: '$secret' }, 60) } });
    const ok = (await ws.reply(3))['subscribe'] as { expires?: boolean; ttl?: number };
    assert.equal(ok.expires, true);
    assert.ok(ok.ttl !== undefined && ok.ttl > 0 && ok.ttl <= 60);
  });

  test('the real client refetches an expired subscription token with getToken', async () => {
    const { c } = await connect('alice');
    let calls = 0;
    const sub = await subscribe(c, '$refetch', {
      token: await gyre.token('alice', { channel: '$refetch' }, -10),
      getToken: async () => {
        calls++;
        return gyre.token('alice', { channel: '$refetch' }, 60);
      },
    });
    assert.equal(calls, 1);
    assert.equal(sub.state, 'subscribed');
  });
});

describe('user-limited channels', () => {
  test('news#42 admits user 42 only', async () => {
    const { c: u42 } = await connect('42');
    const { c: u7 } = await connect('7');
    await subscribe(u42, 'news#42');
    assert.equal(await subscribeCode(u7, 'news#42'), 103);
  });

  test('dialog#42,43 admits both listed users and nobody else', async () => {
    const { c: u42 } = await connect('42');
    const { c: u43 } = await connect('43');
    const { c: u4 } = await connect('4');
    const { c: anon } = await connect();
    await subscribe(u42, 'dialog#42,43');
    await subscribe(u43, 'dialog#42,43');
    assert.equal(await subscribeCode(u4, 'dialog#42,43'), 103);
    assert.equal(await subscribeCode(anon, 'dialog#42,43'), 103);
  });

  test('allow_subscribe_for_client does not open a user-limited channel to other users', async () => {
    const { c: u42 } = await connect('42');
    const { c: u7 } = await connect('7');
    await subscribe(u42, 'ul:inbox#42');
    assert.equal(await subscribeCode(u7, 'ul:inbox#42'), 103);
    // A channel of that namespace without `#` follows allow_subscribe_for_client.
    await subscribe(u7, 'ul:public');
  });

  test('without allow_user_limited_channels, # is an ordinary character', async () => {
    const { c: u7 } = await connect('7');
    // The `client` namespace allows any authenticated user.
    await subscribe(u7, 'client:room#42');
    const { c: u42 } = await connect('42');
    assert.equal(await subscribeCode(u42, 'locked:room#42'), 103);
  });
});

// ---- presence ----

describe('presence', () => {
  test('presence and presence_stats list clients with conn_info and chan_info', async () => {
    const alice = await connect('alice', { info: { name: 'Alice' } });
    const bob = await connect('bob');
    const channel = 'anon:pres';
    await subscribe(alice.c, channel, { token: await gyre.token('alice', { channel, info: { role: 'admin' } }) });
    await subscribe(bob.c, channel);

    const { clients } = await bob.c.presence(channel);
    assert.deepEqual(Object.keys(clients).sort(), [alice.id, bob.id].sort());
    assert.equal(clients[alice.id]!.user, 'alice');
    assert.equal(clients[alice.id]!.client, alice.id);
    assert.deepEqual(clients[alice.id]!.connInfo, { name: 'Alice' });
    assert.deepEqual(clients[alice.id]!.chanInfo, { role: 'admin' });
    assert.equal(clients[bob.id]!.user, 'bob');
    assert.equal(clients[bob.id]!.connInfo, undefined);
    assert.deepEqual(await bob.c.presenceStats(channel), { numClients: 2, numUsers: 2 });

    // A second connection of alice: three clients, two users.
    const alice2 = await connect('alice');
    await subscribe(alice2.c, channel);
    assert.deepEqual(await bob.c.presenceStats(channel), { numClients: 3, numUsers: 2 });

    // Gone from presence once disconnected.
    alice2.c.disconnect();
    await until(async () => (await bob.c.presenceStats(channel)).numClients === 2);
    assert.equal((await bob.c.presence(channel)).clients[alice2.id], undefined);
  });

  test('presence on the wire: raw JSON info, num_clients/num_users present even when zero', async () => {
    const { ws, id } = await rawConnected('carol', { info: { n: 1 } });
    ws.sendJson({ id: 2, presence_stats: { channel: 'anon:empty' } });
    assert.deepEqual(await ws.reply(2), { id: 2, presence_stats: { num_clients: 0, num_users: 0 } });
    ws.sendJson({ id: 3, presence: { channel: 'anon:empty' } });
    assert.deepEqual(await ws.reply(3), { id: 3, presence: { presence: {} } });
    ws.sendJson({ id: 4, subscribe: { channel: 'anon:wire' } });
    await ws.reply(4);
    ws.sendJson({ id: 5, presence: { channel: 'anon:wire' } });
    assert.deepEqual(await ws.reply(5), {
      id: 5,
      presence: { presence: { [id]: { user: 'carol', client: id, conn_info: { n: 1 } } } },
    });
  });

  test('presence on a channel without presence is 108', async () => {
    const { c } = await connect('u1');
    assert.equal(await codeOf(c.presence('bare:x')), 108);
    assert.equal(await codeOf(c.presenceStats('bare:x')), 108);
  });
});

// ---- join / leave ----

/** Collects join / leave pushes of a subscription as "join:user" / "leave:user", with their contexts. */
function joinLeaveLog(sub: Subscription): string[] & { ctx: Map<string, JoinContext | LeaveContext> } {
  const log = Object.assign([] as string[], { ctx: new Map<string, JoinContext | LeaveContext>() });
  const add = (kind: string, ctx: JoinContext | LeaveContext) => {
    log.push(`${kind}:${ctx.info.user}`);
    log.ctx.set(`${kind}:${ctx.info.user}`, ctx);
  };
  sub.on('join', (ctx: JoinContext) => add('join', ctx));
  sub.on('leave', (ctx: LeaveContext) => add('leave', ctx));
  return log;
}

describe('join and leave', () => {
  test('force_push_join_leave: every subscriber gets join and leave with client info', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob', { info: { name: 'Bob' } });
    const subA = await subscribe(alice.c, 'jl:room');
    const log = joinLeaveLog(subA);
    const subB = await subscribe(bob.c, 'jl:room');
    await until(() => log.includes('join:bob'));
    const join = log.ctx.get('join:bob')!;
    assert.equal(join.info.client, bob.id);
    assert.deepEqual(join.info.connInfo, { name: 'Bob' });
    subB.unsubscribe();
    await until(() => log.includes('leave:bob'));
    assert.equal(log.ctx.get('leave:bob')!.info.client, bob.id);
    assert.deepEqual(
      log.filter((e) => e.endsWith(':bob')),
      ['join:bob', 'leave:bob'],
    );
  });

  test('a disconnect publishes leave', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    const subA = await subscribe(alice.c, 'jl:disc');
    const log = joinLeaveLog(subA);
    await subscribe(bob.c, 'jl:disc');
    await until(() => log.includes('join:bob'));
    bob.c.disconnect();
    await until(() => log.includes('leave:bob'));
    assert.equal(log.ctx.get('leave:bob')!.info.client, bob.id);
  });

  test('without force_push_join_leave only a client that asked (joinLeave: true) gets the pushes', async () => {
    const asker = await connect('asker');
    const quiet = await connect('quiet');
    const carol = await connect('carol');
    const subAsk = await subscribe(asker.c, 'jlask:room', { joinLeave: true });
    const subQuiet = await subscribe(quiet.c, 'jlask:room');
    const askLog = joinLeaveLog(subAsk);
    const quietLog = joinLeaveLog(subQuiet);
    const subCarol = await subscribe(carol.c, 'jlask:room');
    await until(() => askLog.includes('join:carol'));
    subCarol.unsubscribe();
    await until(() => askLog.includes('leave:carol'));
    await barrier(gyre, subQuiet, 'jlask:room');
    assert.deepEqual([...quietLog], []);
  });

  test('asking for join/leave needs presence permission', async () => {
    const asker = await connect('asker');
    const carol = await connect('carol');
    const sub = await subscribe(asker.c, 'jlnoperm:room', { joinLeave: true });
    const log = joinLeaveLog(sub);
    await subscribe(carol.c, 'jlnoperm:room');
    await barrier(gyre, sub, 'jlnoperm:room');
    assert.deepEqual([...log], []);
  });

  test('no join/leave in a channel without join_leave, even when asked', async () => {
    const asker = await connect('asker');
    const carol = await connect('carol');
    const sub = await subscribe(asker.c, 'anon:nojl', { joinLeave: true });
    const log = joinLeaveLog(sub);
    await subscribe(carol.c, 'anon:nojl');
    await barrier(gyre, sub, 'anon:nojl');
    assert.deepEqual([...log], []);
  });
});

// ---- publish ----

describe('client publish', () => {
  test('a publication from a client reaches the other subscribers with its info', async () => {
    const alice = await connect('alice', { info: { name: 'Alice' } });
    const bob = await connect('bob');
    const channel = 'sub:talk';
    await subscribe(alice.c, channel, { token: await gyre.token('alice', { channel, info: { seat: 3 } }) });
    const subB = await subscribe(bob.c, channel);
    const got = once<PublicationContext>(subB, 'publication');
    await alice.c.publish(channel, { text: 'hi ✓' });
    const pub = await got;
    assert.deepEqual(pub.data, { text: 'hi ✓' });
    assert.equal(pub.info?.user, 'alice');
    assert.equal(pub.info?.client, alice.id);
    assert.deepEqual(pub.info?.connInfo, { name: 'Alice' });
    assert.deepEqual(pub.info?.chanInfo, { seat: 3 });
    assert.equal(pub.offset, 1);
    // It is in history with the same info.
    const h = await bob.c.history(channel, { limit: 10 });
    assert.equal(h.publications.length, 1);
    assert.equal(h.publications[0]!.info?.client, alice.id);
  });

  test('the publisher gets its own publication, and a denied publish reaches nobody', async () => {
    const alice = await connect('alice');
    const subA = await subscribe(alice.c, 'client:echo');
    const got: unknown[] = [];
    subA.on('publication', (ctx: PublicationContext) => {
      if ((ctx.data as { marker?: number }).marker === undefined) got.push(ctx.data);
    });
    await alice.c.publish('client:echo', { n: 1 });
    await until(() => got.length === 1);
    const anon = await connect();
    assert.equal(await codeOf(anon.c.publish('client:echo', { n: 2 })), 103);
    await barrier(gyre, subA, 'client:echo');
    assert.deepEqual(got, [{ n: 1 }]);
  });

  test('publish without data is 107 on the wire', async () => {
    const { ws } = await rawConnected('u1');
    ws.sendJson({ id: 2, publish: { channel: 'client:x' } });
    assert.equal(((await ws.reply(2))['error'] as { code: number }).code, 107);
  });
});

// ---- history ----

describe('client history', () => {
  const channel = 'client:hist';
  let epoch = '';
  before(async () => {
    for (let n = 1; n <= 5; n++) {
      const res = (await gyre.api('publish', { channel, data: { n } }))['result'] as { epoch: string };
      epoch = res.epoch;
    }
  });

  const ns = (pubs: PublicationContext[]) => pubs.map((p) => (p.data as { n: number }).n);

  test('limit, since and reverse', async () => {
    const { c } = await connect('u1');
    assert.deepEqual(ns((await c.history(channel, { limit: 2 })).publications), [1, 2]);
    assert.deepEqual(ns((await c.history(channel, { limit: 2, since: { offset: 2, epoch } })).publications), [3, 4]);
    assert.deepEqual(ns((await c.history(channel, { limit: 2, reverse: true })).publications), [5, 4]);
    assert.deepEqual(ns((await c.history(channel, { limit: 2, reverse: true, since: { offset: 4, epoch } })).publications), [3, 2]);
    const res = await c.history(channel, { limit: 1 });
    assert.equal(res.offset, 5);
    assert.equal(res.epoch, epoch);
    assert.equal(res.publications[0]!.offset, 1);
  });

  test('without a limit only the position comes back', async () => {
    const { c } = await connect('u1');
    const res = await c.history(channel);
    assert.deepEqual(res.publications, []);
    assert.equal(res.offset, 5);
    assert.equal(res.epoch, epoch);
  });

  test('the limit is capped by client.history_max_publication_limit', async () => {
    const { c } = await connect('u1');
    assert.deepEqual(ns((await c.history(channel, { limit: 100 })).publications), [1, 2, 3]);
    assert.deepEqual(ns((await c.history(channel, { limit: -1 })).publications), [1, 2, 3]);
  });

  test('since with another epoch is 112', async () => {
    const { c } = await connect('u1');
    assert.equal(await codeOf(c.history(channel, { limit: 2, since: { offset: 1, epoch: 'not-' + epoch } })), 112);
  });

  test('history on a channel without history is 108', async () => {
    const { c } = await connect('u1');
    assert.equal(await codeOf(c.history('bare:x', { limit: 1 })), 108);
  });

  test('the wire shape: publications, epoch and offset are present', async () => {
    const { ws } = await rawConnected('u1');
    ws.sendJson({ id: 2, history: { channel: 'client:fresh', limit: 10 } });
    const res = (await ws.reply(2))['history'] as Record<string, unknown>;
    assert.deepEqual(res['publications'], []);
    assert.equal(res['offset'], 0);
    assert.equal(typeof res['epoch'], 'string');
    ws.sendJson({ id: 3, history: { channel, limit: 1, reverse: true } });
    const pubs = ((await ws.reply(3))['history'] as { publications: unknown[] }).publications;
    assert.deepEqual(pubs, [{ data: { n: 5 }, offset: 5 }]);
  });
});

// ---- insecure mode ----

describe('insecure mode', () => {
  let open: TestGyre;
  before(async () => {
    open = await startGyre({
      client: { insecure: true, token: { hmac_secret_key: '' } },
      channel: { namespaces: [{ name: 'locked', ...HISTORY }] },
    });
  });
  after(() => open.close());

  test('everything is allowed without a token', async () => {
    const c = open.client();
    const connected = once<{ client: string }>(c, 'connected');
    c.connect();
    const { client: id } = await connected;
    const sub = c.newSubscription('locked:any');
    const subscribed = once(sub, 'subscribed');
    sub.subscribe();
    await subscribed;
    const got = once<PublicationContext>(sub, 'publication');
    await c.publish('locked:any', { ok: true });
    assert.deepEqual((await got).data, { ok: true });
    assert.deepEqual(Object.keys((await c.presence('locked:any')).clients), [id]);
    assert.equal((await c.history('locked:any', { limit: 5 })).publications.length, 1);
    // Other channels of the namespace, not subscribed: also allowed.
    assert.equal(await codeOf(c.publish('locked:other', {})), 0);
    assert.equal(await codeOf(c.history('locked:other', { limit: 1 })), 0);
  });

  test('an unknown namespace is still 102 and a private channel still needs a token', async () => {
    const c = open.client();
    const connected = once(c, 'connected');
    c.connect();
    await connected;
    assert.equal(await codeOf(c.publish('nope:x', {})), 102);
    const sub = c.newSubscription('$locked:p');
    const unsubscribed = once<{ code: number }>(sub, 'unsubscribed');
    sub.subscribe();
    assert.equal((await unsubscribed).code, 103);
  });
});
