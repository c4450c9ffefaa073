/**
 * Bad input over a raw WebSocket: every malformed frame, misordered command, wrong type, bad token
 * or forbidden request gets the spec's close code or reply error, writes exactly one log line, and
 * leaves the server serving an already-connected client.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { signToken } from '../../src/auth/sign.js';
import { RawSocket, startGyre, type LogLine, type TestGyre } from '../helpers/gyre.js';
import { waitFor } from '../helpers/wait.js';

const SIZE_LIMIT = 1024;
const CHANNEL_LIMIT = 3;

let gyre: TestGyre;
/** A connected client subscribed to `witness`; it must keep working after every bad input. */
let witness: RawSocket;
let witnessId = '';
let seq = 1000;

before(async () => {
  gyre = await startGyre({
    websocket: { message_size_limit: SIZE_LIMIT },
    client: { channel_limit: CHANNEL_LIMIT, allowed_origins: ['https://good.example'], ping_interval: '60s' },
  });
  witness = await gyre.raw();
  const reply = await witness.connect(await gyre.token('witness'));
  witnessId = (reply['connect'] as { client: string }).client;
  witness.sendJson({ id: 2, subscribe: { channel: 'witness' } });
  assert.ok((await witness.reply(2))['subscribe'] !== undefined);
});
after(() => gyre.close());

/** The witness publishes and receives its own publication: the server still serves. */
async function assertStillServing(): Promise<void> {
  const id = ++seq;
  witness.sendJson({ id, publish: { channel: 'witness', data: { n: id } } });
  const reply = await witness.reply(id);
  assert.deepEqual(reply, { id, publish: {} });
  const push = await witness.next((m) => {
    const pub = (m['push'] as { pub?: { data?: { n?: number } } } | undefined)?.pub;
    return pub?.data?.n === id;
  });
  assert.equal((push['push'] as { channel: string }).channel, 'witness');
  assert.equal(witness.ws.readyState, WebSocket.OPEN);
}

/**
 * Asserts that exactly one log line was written since `mark` (ignoring the witness's), that it
 * matches `msg`, and (when given) that it names `client`.
 */
function assertOneLogLine(mark: number, msg: RegExp, client?: string): LogLine {
  const lines = gyre.logs.slice(mark).filter((l) => l['client'] !== witnessId);
  assert.equal(lines.length, 1, `expected one log line, got ${JSON.stringify(lines)}`);
  const line = lines[0]!;
  assert.match(line.msg, msg);
  if (client !== undefined) assert.equal(line['client'], client);
  return line;
}

/** A raw socket, connected with a token for `user`; returns it with its client id. */
async function connected(user = '42'): Promise<{ s: RawSocket; client: string }> {
  const s = await gyre.raw();
  const reply = await s.connect(await gyre.token(user));
  const client = (reply['connect'] as { client?: string } | undefined)?.client;
  assert.ok(client !== undefined, `connect failed: ${JSON.stringify(reply)}`);
  return { s, client };
}

/**
 * Runs `act` (which calls `mark()` once its socket is set up, so set-up log lines do not count),
 * then checks the close code and reason, that the witness is still served, and the one log line.
 */
async function expectClose(
  act: (mark: () => void) => Promise<{ s: RawSocket; client?: string }>,
  code: number,
  reason: string | undefined,
  msg: RegExp,
): Promise<LogLine> {
  let mark = gyre.logs.length;
  const { s, client } = await act(() => {
    mark = gyre.logs.length;
  });
  const closed = await s.closed;
  assert.equal(closed.code, code);
  if (reason !== undefined) assert.equal(closed.reason, reason);
  await assertStillServing();
  return assertOneLogLine(mark, msg, client);
}

/** Sends `cmd` (after connecting) and checks the error reply, the one log line, and that both sockets stay open. */
async function expectError(
  cmd: Record<string, unknown>,
  code: number,
  msg: RegExp,
  setup?: (s: RawSocket) => Promise<void>,
): Promise<LogLine> {
  const { s, client } = await connected();
  if (setup !== undefined) await setup(s);
  const mark = gyre.logs.length;
  const id = ++seq;
  s.sendJson({ id, ...cmd });
  const reply = await s.reply(id);
  assert.equal((reply['error'] as { code: number } | undefined)?.code, code, JSON.stringify(reply));
  await assertStillServing();
  const line = assertOneLogLine(mark, msg, client);
  if (line['code'] !== undefined) assert.equal(line['code'], code);
  // The connection stays usable.
  const next = ++seq;
  s.sendJson({ id: next, unsubscribe: { channel: 'not-subscribed' } });
  assert.deepEqual(await s.reply(next), { id: next, unsubscribe: {} });
  assert.equal(s.ws.readyState, WebSocket.OPEN);
  s.ws.close();
  await s.closed;
  return line;
}

// ---- framing ----

test('malformed JSON closes with 3501', async () => {
  await expectClose(
    async (mark) => {
      const { s, client } = await connected();
      mark();
      s.send('{"id": 2, "subscribe": ');
      return { s, client };
    },
    3501,
    'bad request',
    /bad request/,
  );
});

test('malformed JSON before connect closes with 3501', async () => {
  await expectClose(
    async () => {
      const s = await gyre.raw();
      s.send('hello');
      return { s };
    },
    3501,
    'bad request',
    /bad request/,
  );
});

test('a JSON value that is not an object closes with 3501', async () => {
  for (const text of ['[1,2]', '42', '"connect"', 'null']) {
    await expectClose(
      async (mark) => {
        const { s, client } = await connected();
        mark();
        s.send(text);
        return { s, client };
      },
      3501,
      'bad request',
      /bad request/,
    );
  }
});

test('a command with an id but no known method gets error 104 and the connection stays', async () => {
  await expectError({ frobnicate: { channel: 'x' } }, 104, /no known method/);
});

test('a command without id closes with 3501', async () => {
  await expectClose(
    async (mark) => {
      const { s, client } = await connected();
      mark();
      s.sendJson({ subscribe: { channel: 'news' } });
      return { s, client };
    },
    3501,
    'bad request',
    /bad request/,
  );
});

test('an id of the wrong type closes with 3501', async () => {
  await expectClose(
    async (mark) => {
      const { s, client } = await connected();
      mark();
      s.sendJson({ id: '3', subscribe: { channel: 'news' } });
      return { s, client };
    },
    3501,
    'bad request',
    /bad request/,
  );
});

test('a command before connect closes with 3501', async () => {
  await expectClose(
    async () => {
      const s = await gyre.raw();
      s.sendJson({ id: 1, subscribe: { channel: 'news' } });
      return { s };
    },
    3501,
    'bad request',
    /before connect/,
  );
});

test('connect twice closes with 3501', async () => {
  await expectClose(
    async (mark) => {
      const { s, client } = await connected();
      mark();
      s.sendJson({ id: 2, connect: { token: await gyre.token('42') } });
      return { s, client };
    },
    3501,
    'bad request',
    /connect/,
  );
});

test('a frame beyond websocket.message_size_limit closes with 1009', async () => {
  await expectClose(
    async (mark) => {
      const { s, client } = await connected();
      mark();
      const id = ++seq;
      s.sendJson({ id, publish: { channel: 'witness', data: { pad: 'x'.repeat(SIZE_LIMIT * 2) } } });
      return { s, client };
    },
    1009,
    undefined,
    /websocket error/,
  );
});

test('invalid UTF-8 in a text frame closes with 1007', async () => {
  await expectClose(
    async (mark) => {
      const { s, client } = await connected();
      mark();
      s.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
      return { s, client };
    },
    1007,
    undefined,
    /websocket error/,
  );
});

test('a binary frame on a JSON connection closes with 3501', async () => {
  await expectClose(
    async (mark) => {
      const { s, client } = await connected();
      mark();
      s.send(Buffer.from(JSON.stringify({ id: 2, subscribe: { channel: 'news' } })), true);
      return { s, client };
    },
    3501,
    'bad request',
    /binary/,
  );
});

// ---- wrong field types and values ----

test('subscribe with a channel of the wrong type closes with 3501', async () => {
  const line = await expectClose(
    async (mark) => {
      const { s, client } = await connected();
      mark();
      s.sendJson({ id: 2, subscribe: { channel: 5 } });
      return { s, client };
    },
    3501,
    'bad request',
    /bad request/,
  );
  assert.match(String(line['reason']), /subscribe\.channel/);
});

test('publish without data gets error 107', async () => {
  await expectError({ publish: { channel: 'witness' } }, 107, /command error/);
});

test('an empty channel gets error 107', async () => {
  await expectError({ subscribe: { channel: '' } }, 107, /command error/);
});

test('an unknown channel namespace gets error 102', async () => {
  await expectError({ subscribe: { channel: 'nowhere:news' } }, 102, /command error/);
});

test('subscribing twice gets error 105', async () => {
  await expectError({ subscribe: { channel: 'twice' } }, 105, /command error/, async (s) => {
    s.sendJson({ id: 2, subscribe: { channel: 'twice' } });
    assert.ok((await s.reply(2))['subscribe'] !== undefined);
  });
});

test('exceeding client.channel_limit gets error 106', async () => {
  await expectError({ subscribe: { channel: 'one-too-many' } }, 106, /command error/, async (s) => {
    for (let i = 0; i < CHANNEL_LIMIT; i++) {
      s.sendJson({ id: 10 + i, subscribe: { channel: `limit-${i}` } });
      assert.ok((await s.reply(10 + i))['subscribe'] !== undefined);
    }
  });
});

test('rpc without a handler gets error 108', async () => {
  await expectError({ rpc: { method: 'sum', data: { a: 1 } } }, 108, /command error/);
});

// ---- tokens ----

function b64url(v: unknown): string {
  return Buffer.from(JSON.stringify(v)).toString('base64url');
}

/** Sends connect with `token` on a fresh socket and returns it. */
async function connectWith(token: string | undefined): Promise<{ s: RawSocket }> {
  const s = await gyre.raw();
  s.sendJson({ id: 1, connect: token === undefined ? {} : { token } });
  return { s };
}

test('a connection token with alg "none" closes with 3500', async () => {
  const token = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: '42' })}.`;
  const line = await expectClose(() => connectWith(token), 3500, 'invalid token', /invalid connection token/);
  assert.match(String(line['reason']), /"none"/);
});

test('a connection token signed with the wrong key closes with 3500', async () => {
  const token = await signToken({ sub: '42' }, { hmacSecret: 'not-the-secret', ttlSeconds: 60 });
  const line = await expectClose(() => connectWith(token), 3500, 'invalid token', /invalid connection token/);
  assert.match(String(line['reason']), /signature/);
});

test('a connection token with a channel claim closes with 3500', async () => {
  const token = await gyre.token('42', { channel: 'news' });
  const line = await expectClose(() => connectWith(token), 3500, 'invalid token', /invalid connection token/);
  assert.match(String(line['reason']), /channel/);
});

test('connect without a token when not insecure closes with 3501', async () => {
  await expectClose(() => connectWith(undefined), 3501, 'bad request', /without token/);
});

test('an expired connection token gets error 109 and the connection stays open', async () => {
  const s = await gyre.raw();
  const mark = gyre.logs.length;
  s.sendJson({ id: 1, connect: { token: await gyre.token('42', {}, -60) } });
  const reply = await s.reply(1);
  assert.equal((reply['error'] as { code: number } | undefined)?.code, 109, JSON.stringify(reply));
  await assertStillServing();
  assert.equal(assertOneLogLine(mark, /command error/)['code'], 109);
  assert.equal(s.ws.readyState, WebSocket.OPEN);
  s.ws.close();
  await s.closed;
});

test('a subscription token that does not verify gets error 103', async () => {
  const token = await signToken({ sub: '42', channel: 'news' }, { hmacSecret: 'not-the-secret' });
  const line = await expectError({ subscribe: { channel: 'news', token } }, 103, /invalid subscription token/);
  assert.equal(line['channel'], 'news');
  assert.match(String(line['reason']), /signature/);
});

test('a subscription token for another channel closes with 3500, as in Centrifugo', async () => {
  const token = await gyre.token('42', { channel: 'other' });
  const line = await expectClose(
    async (mark) => {
      const { s, client } = await connected();
      mark();
      s.sendJson({ id: 2, subscribe: { channel: 'news', token } });
      return { s, client };
    },
    3500,
    'invalid token',
    /subscription token for another channel/,
  );
  assert.equal(line['channel'], 'news');
});

// ---- origin ----

/** The HTTP status of a WebSocket upgrade with this Origin (101 when it opens). */
function upgradeStatus(origin: string): Promise<number> {
  return waitFor(`the upgrade with Origin ${origin} to open or be refused`, (resolve, reject) => {
    const ws = new WebSocket(gyre.wsUrl, { origin });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

test('an Origin not in client.allowed_origins gets HTTP 403 on upgrade', async () => {
  const mark = gyre.logs.length;
  assert.equal(await upgradeStatus('https://evil.example'), 403);
  await assertStillServing();
  const line = assertOneLogLine(mark, /is not allowed: refused with 403; to accept pages from it, add it to client\.allowed_origins/);
  assert.equal(line['origin'], 'https://evil.example');
  assert.equal(line['level'], 40);
  assert.equal(await upgradeStatus('https://good.example'), 101);
  // The same origin again within a minute: refused, not logged again (a flood cannot fill the log).
  const again = gyre.logs.length;
  assert.equal(await upgradeStatus('https://evil.example'), 403);
  assert.equal(gyre.logs.slice(again).filter((l) => /client\.allowed_origins/.test(String(l.msg))).length, 0);
});
