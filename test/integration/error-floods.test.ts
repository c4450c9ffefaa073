/**
 * Error floods: a connection that keeps sending bad commands is closed with 3509 "too many errors"
 * past `client.error_limit` within `client.error_limit_interval`, and its errors make a handful of
 * log lines and a count, not a line per command. Application errors do not count. JSON nested
 * deeper than the limit is answered 107 with one warn line, and the connection goes on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Handlers } from '../../src/handlers/index.js';
import { MAX_JSON_DEPTH } from '../../src/protocol/json-depth.js';
import { startGyre, until, type LogLine, type RawSocket, type TestGyre } from '../helpers/gyre.js';
import { EventSocket } from '../events/helpers.js';

const LIMIT = 50;

let gyre: TestGyre;
before(async () => {
  const handlers = new Handlers().service('rpc', (req) => req.error(1000, 'no seats left'));
  gyre = await startGyre(
    {
      client: { error_limit: LIMIT, error_limit_interval: '60s' },
      events: { enabled: true },
      channel: { namespaces: [{ name: 'locked' }] },
    },
    undefined,
    { handlers },
  );
});
after(() => gyre.close());

async function connected(user: string): Promise<{ s: RawSocket; id: string }> {
  const s = await gyre.raw();
  const reply = await s.connect(await gyre.token(user));
  return { s, id: (reply['connect'] as { client: string }).client };
}

function linesOf(client: string): LogLine[] {
  return gyre.logs.filter((l) => l['client'] === client);
}

/** A ping command answered: the connection is alive and serving. */
async function served(s: RawSocket, id: number): Promise<void> {
  s.sendJson({ id, ping: {} });
  assert.deepEqual(await s.reply(id), { id, ping: {} });
}

function nested(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

describe('error floods', () => {
  test('a flood of commands with no known method is closed with 3509 after error_limit errors, in a few log lines', async () => {
    const { s, id } = await connected('flooder');
    const other = await connected('bystander');
    for (let i = 2; i < 2002 && s.ws.readyState === s.ws.OPEN; i++) s.ws.send(JSON.stringify({ id: i }));
    assert.deepEqual(await s.closed, { code: 3509, reason: 'too many errors' });
    const errors = s.messages.filter((m) => (m['error'] as { code?: number } | undefined)?.code === 104);
    assert.equal(errors.length, LIMIT + 1, 'answered 104 until the limit was passed');
    await until(() => linesOf(id).some((l) => l.msg === 'more errors of this connection were not logged'), 'the summary line');
    const lines = linesOf(id);
    assert.equal(lines.filter((l) => l.msg === 'command with no known method').length, 5, 'five lines in full');
    assert.equal(lines.find((l) => l.msg === 'more errors of this connection were not logged')?.['suppressed'], LIMIT + 1 - 5);
    assert.equal(lines.filter((l) => l.msg.startsWith('too many errors')).length, 1);
    assert.ok(lines.length <= 10, `at most a handful of lines, got ${lines.length}`);
    await served(other.s, 2);
  });

  test('repeated permission errors count as well', async () => {
    const { s } = await connected('prober');
    for (let i = 2; i < 2 + LIMIT + 10 && s.ws.readyState === s.ws.OPEN; i++) s.sendJson({ id: i, subscribe: { channel: `locked:${i}` } });
    assert.deepEqual(await s.closed, { code: 3509, reason: 'too many errors' });
    assert.ok(s.messages.every((m) => m['error'] === undefined || (m['error'] as { code: number }).code === 103));
  });

  test("an application's own errors (400 and up) do not count", async () => {
    const { s, id } = await connected('customer');
    for (let i = 2; i < 2 + 2 * LIMIT; i++) s.sendJson({ id: i, rpc: { method: 'book', data: {} } });
    const last = await s.reply(1 + 2 * LIMIT);
    assert.deepEqual(last['error'], { code: 1000, message: 'no seats left' });
    await served(s, 10_000);
    assert.equal(linesOf(id).filter((l) => l.msg.startsWith('too many errors')).length, 0);
  });

  test(`JSON nested deeper than ${MAX_JSON_DEPTH} levels is answered 107 with one warn line; the connection goes on`, async () => {
    const { s, id } = await connected('nester');
    s.sendJson({ id: 20, subscribe: { channel: 'deep' } });
    await s.reply(20);
    s.ws.send(`{"id":2,"publish":{"channel":"deep","data":${nested(10_000)}}}`);
    assert.deepEqual(await s.reply(2), { id: 2, error: { code: 107, message: 'bad request' } });
    // Just under the limit (the command itself takes two levels) is fine.
    s.ws.send(`{"id":3,"publish":{"channel":"deep","data":${nested(MAX_JSON_DEPTH - 2)}}}`);
    assert.deepEqual(await s.reply(3), { id: 3, publish: {} });
    await served(s, 4);
    const lines = linesOf(id);
    assert.equal(lines.filter((l) => l.msg === 'bad request: answered 107' && l.level === 40).length, 1);
    assert.deepEqual(gyre.logs.filter((l) => l.level >= 50), [], 'no error-level line');
    // Deep JSON with no id cannot be answered: it is a bad frame.
    s.ws.send(`{"publish":{"channel":"deep","data":${nested(5000)}}}`);
    assert.deepEqual(await s.closed, { code: 3501, reason: 'bad request' });
  });

  test('the event endpoint: a flood of bad messages is closed with 3509, in a few log lines', async () => {
    const s = await EventSocket.open(`ws://127.0.0.1:${gyre.port}/connection/events`);
    // Fewer than the 1024 messages that may wait for their listeners (past that: 3013).
    for (let i = 0; i < 500 && s.ws.readyState === s.ws.OPEN; i++) s.ws.send(i % 2 === 0 ? 'not json' : JSON.stringify({ event: 'NOBODY_LISTENS' }));
    assert.deepEqual(await s.closed, { code: 3509, reason: 'too many errors' });
    const conn = gyre.logs.find((l) => l.msg === 'too many errors (client.error_limit): closing the connection' && l['connection'] !== undefined)?.['connection'];
    assert.equal(typeof conn, 'string');
    const lines = gyre.logs.filter((l) => l['connection'] === conn);
    assert.ok(lines.length <= 10, `at most a handful of lines, got ${lines.length}: ${lines.map((l) => l.msg).join(' | ')}`);
  });

  test('the event endpoint: deeply nested data is a bad message, answered with an error event', async () => {
    const s = await EventSocket.open(`ws://127.0.0.1:${gyre.port}/connection/events`);
    s.ws.send(`{"event":"X","data":${nested(5000)}}`);
    const error = await s.next((m) => m.event === 'error');
    assert.deepEqual(error.data, { code: 'bad_message', reason: `JSON nested deeper than ${MAX_JSON_DEPTH} levels` });
  });
});
