/**
 * The topic authorization registry on its own: placeholders, constraints (enforced), literal
 * escaping, first-registered-wins, the callback's typed context, malformed and reserved patterns.
 * (topicSubscribeService over real sockets is in test/integration/handlers-routing.test.ts.)
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TopicRegistry, type SubscribeRequest, type TopicContext, type TopicParams } from '../../src/index.js';
import { captureLogger, requests } from './helpers.js';

/** The parameters of the first matching pattern, or undefined. */
function paramsOf(reg: TopicRegistry, topic: string): Record<string, string> | undefined {
  const m = reg.findCallback(topic);
  return m === undefined ? undefined : { ...m.params };
}

describe('matching', () => {
  test('order.{uuid} and user.{id}: one segment each, anchored at both ends', () => {
    const reg = new TopicRegistry().register('order.{uuid}', () => true).register('user.{id}', () => true);
    assert.deepEqual(paramsOf(reg, 'order.a1'), { uuid: 'a1' });
    assert.deepEqual(paramsOf(reg, 'order.3f2a-9c1b'), { uuid: '3f2a-9c1b' });
    assert.deepEqual(paramsOf(reg, 'user.42'), { id: '42' });
    for (const t of ['order.', 'order.a1.b', 'order.a:b', 'xorder.a1', 'order.a1x.', 'user', 'user.42.x', 'orderXa1']) {
      assert.equal(reg.findCallback(t), undefined, t);
    }
  });

  test('{id:\\d+}: the constraint is enforced', () => {
    const reg = new TopicRegistry().register('item.{id:\\d+}', () => true);
    assert.deepEqual(paramsOf(reg, 'item.123'), { id: '123' });
    for (const t of ['item.abc', 'item.12a', 'item.a12', 'item.', 'item.1.2']) assert.equal(reg.findCallback(t), undefined, t);
  });

  test('a bare {id:\\d+} pattern matches whole topics only', () => {
    const reg = new TopicRegistry().register('{id:\\d+}', () => true);
    assert.deepEqual(paramsOf(reg, '7'), { id: '7' });
    assert.equal(reg.findCallback('7a'), undefined);
    assert.equal(reg.findCallback('a7'), undefined);
  });

  test('constraints may hold braces, alternation and dots; they are grouped, not spliced', () => {
    const reg = new TopicRegistry()
      .register('code.{c:\\d{3}}', () => true)
      .register('x.{kind:a|b}.y', () => true)
      .register('files.{path:.+}', () => true);
    assert.deepEqual(paramsOf(reg, 'code.123'), { c: '123' });
    assert.equal(reg.findCallback('code.12'), undefined);
    assert.equal(reg.findCallback('code.1234'), undefined);
    assert.deepEqual(paramsOf(reg, 'x.b.y'), { kind: 'b' });
    // Were the alternation not grouped, "x.a" (left branch) or "b.y" (right branch) would match.
    assert.equal(reg.findCallback('x.a'), undefined);
    assert.equal(reg.findCallback('b.y'), undefined);
    assert.equal(reg.findCallback('x.c.y'), undefined);
    assert.deepEqual(paramsOf(reg, 'files.a.b:c'), { path: 'a.b:c' });
  });

  test('several placeholders, namespaces and separators', () => {
    const reg = new TopicRegistry().register('chat:room.{org}.{id:\\d+}', () => true);
    assert.deepEqual(paramsOf(reg, 'chat:room.acme.9'), { org: 'acme', id: '9' });
    assert.equal(reg.findCallback('chat:room.acme.x'), undefined);
    assert.equal(reg.findCallback('chatXroom.acme.9'), undefined);
  });

  test('literal characters are escaped: "." "+" "(" "$" "*" "?" "[" "|" "^" "\\" match only themselves', () => {
    const literal = (pattern: string, yes: string, no: string[]): void => {
      const reg = new TopicRegistry().register(pattern, () => true);
      assert.ok(reg.findCallback(yes), `${pattern} should match ${yes}`);
      for (const t of no) assert.equal(reg.findCallback(t), undefined, `${pattern} must not match ${t}`);
    };
    literal('a.b', 'a.b', ['aXb', 'ab', 'a..b']);
    literal('a+b', 'a+b', ['ab', 'aab', 'aaab']);
    literal('(x)', '(x)', ['x']);
    literal('$private', '$private', ['private', 'x$private']);
    literal('a*', 'a*', ['a', 'aaa', '']);
    literal('a?b', 'a?b', ['ab', 'b']);
    literal('[ab]', '[ab]', ['a', 'b']);
    literal('a|b', 'a|b', ['a', 'b']);
    literal('^a', '^a', ['a']);
    literal('a\\d', 'a\\d', ['a1']);
    literal('news', 'news', ['news2', 'anews', 'New']);
  });

  test('the first registered pattern that matches wins', () => {
    const reg = new TopicRegistry()
      .register('item.{id:\\d+}', () => true)
      .register('item.{name}', () => false)
      .register('item.7', () => false);
    assert.equal(reg.findCallback('item.7')!.pattern, 'item.{id:\\d+}');
    assert.equal(reg.findCallback('item.x')!.pattern, 'item.{name}');
    assert.deepEqual(reg.patterns(), ['item.{id:\\d+}', 'item.{name}', 'item.7']);

    const reversed = new TopicRegistry().register('item.7', () => false).register('item.{id:\\d+}', () => true);
    assert.equal(reversed.findCallback('item.7')!.pattern, 'item.7');
  });
});

describe('authorize', () => {
  test('the callback gets the named parameters, the topic, the user id and the request', async () => {
    const { log } = captureLogger();
    const request = requests.subscribe(log, 'order.a1');
    let got: unknown;
    const reg = new TopicRegistry<SubscribeRequest>().register('order.{uuid}', (ctx) => {
      got = ctx;
      return ctx.uuid === 'a1' && ctx.userId === '42';
    });
    assert.equal(await reg.authorize('order.a1', '42', request), true);
    assert.deepEqual(got, { uuid: 'a1', topic: 'order.a1', userId: '42', request });
    assert.equal(await reg.authorize('order.a1', '7', request), false);
  });

  test('no matching pattern: false; async callbacks; only a literal true allows', async () => {
    const reg = new TopicRegistry()
      .register('async.{x}', async ({ x }) => {
        await Promise.resolve();
        return x === 'yes';
      })
      .register('truthy', () => 1 as unknown as boolean);
    assert.equal(await reg.authorize('nothing', 'u'), false);
    assert.equal(await reg.authorize('async.yes', 'u'), true);
    assert.equal(await reg.authorize('async.no', 'u'), false);
    assert.equal(await reg.authorize('truthy', 'u'), false);
  });

  test('a callback that throws rejects authorize (the subscribe service turns it into error 100)', async () => {
    const reg = new TopicRegistry().register('t', () => {
      throw new Error('db down');
    });
    await assert.rejects(reg.authorize('t', 'u'), /db down/);
  });

  test('the request is optional', async () => {
    let request: unknown = 'unset';
    const reg = new TopicRegistry().register('t', (ctx) => {
      request = ctx.request;
      return true;
    });
    assert.equal(await reg.authorize('t', ''), true);
    assert.equal(request, undefined);
  });
});

describe('patterns', () => {
  test('malformed patterns and constraints throw SyntaxError', () => {
    for (const p of ['a.{', 'a.{id', 'a.}', '}', '{}', '{1x}', '{a-b}', '{id:}', '{id:(}', '{id:[}', '{id}.{id}', 'x.{:\\d+}']) {
      assert.throws(() => new TopicRegistry().register(p, () => true), SyntaxError, p);
    }
  });

  test('reserved parameter names (topic, userId, request) throw', () => {
    for (const name of ['topic', 'userId', 'request']) {
      assert.throws(() => new TopicRegistry().register(`x.{${name}}`, () => true), /reserved/);
    }
  });

  test('a failed registration leaves the registry unchanged', () => {
    const reg = new TopicRegistry().register('ok', () => true);
    assert.throws(() => reg.register('bad.{', () => true));
    assert.deepEqual(reg.patterns(), ['ok']);
  });

  test('parameters are typed from the pattern (compile-time check)', () => {
    const reg = new TopicRegistry<SubscribeRequest>();
    reg.register('room.{org}.{id:\\d+}', (ctx) => {
      const org: string = ctx.org;
      const id: string = ctx.id;
      const topic: string = ctx.topic;
      const user: string = ctx.userId;
      const req: SubscribeRequest | undefined = ctx.request;
      // @ts-expect-error: no such placeholder in the pattern
      void ctx.nope;
      return org !== '' && id !== '' && topic !== '' && user !== '' && req !== undefined;
    });
    const params: TopicParams<'order.{uuid}.{n:\\d+}'> = { uuid: 'a', n: '1' };
    // @ts-expect-error: a parameter is missing
    const missing: TopicParams<'order.{uuid}.{n:\\d+}'> = { uuid: 'a' };
    const ctx: TopicContext<'user.{id}', SubscribeRequest> = { id: '1', topic: 'user.1', userId: '1', request: undefined };
    assert.ok(params && missing && ctx);
  });
});
