/**
 * The handler pipeline on its own (no sockets): registration from a config object and fluently,
 * services as functions and objects, sync and async, interceptor order and powers, and the
 * "always an answer" rules (throw → 100 with a stack in the log, timeout → 100 temporary with a
 * warning, second answer ignored with a warning).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ConnectResponse,
  DEFAULT_TIMEOUT_MS,
  Handlers,
  PublishResponse,
  RPCResponse,
  SubscribeResponse,
  DisconnectException,
  Errors,
  ProtocolException,
  type AnyRequest,
  type Next,
  type RPCRequest,
} from '../../src/index.js';
import { until } from '../helpers/gyre.js';
import { captureLogger, ERROR, requests, WARN } from './helpers.js';

const INTERNAL = { code: 100, message: 'internal server error', temporary: true };

describe('registration', () => {
  test('config object: services as functions and objects, sync and async', async () => {
    const { log } = captureLogger();
    const h = Handlers.from({
      services: {
        connect: (r) => r.respond(new ConnectResponse({ user: 'sync-fn' })),
        subscribe: async (r) => {
          await new Promise((res) => setTimeout(res, 1));
          r.respond(new SubscribeResponse({ data: 'async-fn' }));
        },
        publish: { handle: (r) => r.respond(new PublishResponse({ data: 'sync-obj' })) },
        rpc: {
          async handle(r: RPCRequest) {
            await Promise.resolve();
            r.respond(new RPCResponse({ data: 'async-obj' }));
          },
        },
      },
    });
    assert.ok(h.has('connect') && h.has('subscribe') && h.has('publish') && h.has('rpc'));
    assert.ok(!h.has('refresh') && !h.has('sub_refresh'));
    const c = await h.run<'connect'>(requests.connect(log), log);
    assert.equal(c.kind === 'respond' && c.response.fields.user, 'sync-fn');
    const s = await h.run<'subscribe'>(requests.subscribe(log), log);
    assert.equal(s.kind === 'respond' && s.response.fields.data, 'async-fn');
    const p = await h.run<'publish'>(requests.publish(log), log);
    assert.equal(p.kind === 'respond' && p.response.fields.data, 'sync-obj');
    const r = await h.run<'rpc'>(requests.rpc(log), log);
    assert.equal(r.kind === 'respond' && r.response.fields.data, 'async-obj');
  });

  test('fluent: service / intercept / timeout chain and a later service replaces an earlier one', async () => {
    const { log } = captureLogger();
    const trace: string[] = [];
    const h = new Handlers()
      .service('rpc', (r) => r.respond(new RPCResponse({ data: 'first' })))
      .intercept('*', async (r, next) => {
        trace.push('*');
        await next(r);
      })
      .intercept('rpc', async (r, next) => {
        trace.push('rpc');
        await next(r);
      })
      .timeout('rpc', 1000)
      .service('rpc', (r) => r.respond(new RPCResponse({ data: 'second' })));
    const out = await h.run<'rpc'>(requests.rpc(log), log);
    assert.equal(out.kind === 'respond' && out.response.fields.data, 'second');
    assert.deepEqual(trace, ['*', 'rpc']);
  });

  test('Handlers.from() and Handlers.from({}) register nothing', () => {
    for (const h of [Handlers.from(), Handlers.from({})]) {
      for (const t of ['connect', 'refresh', 'subscribe', 'publish', 'rpc', 'sub_refresh'] as const) assert.equal(h.has(t), false);
    }
  });

  test('an unknown type name in a config object is a TypeError', () => {
    const bad = { services: { conect: () => {} } } as unknown as Parameters<typeof Handlers.from>[0];
    assert.throws(() => Handlers.from(bad), (e: unknown) => e instanceof TypeError && /conect/.test(e.message));
    const badInterceptor = { interceptors: { subrefresh: [] } } as unknown as Parameters<typeof Handlers.from>[0];
    assert.throws(() => Handlers.from(badInterceptor), TypeError);
    const badTimeout = { timeouts: { rcp: 10 } } as unknown as Parameters<typeof Handlers.from>[0];
    assert.throws(() => Handlers.from(badTimeout), TypeError);
  });

  test('a non-positive or non-finite timeout is a RangeError', () => {
    assert.throws(() => new Handlers().timeout('rpc', 0), RangeError);
    assert.throws(() => new Handlers().timeout('rpc', -5), RangeError);
    assert.throws(() => new Handlers().timeout('rpc', Number.NaN), RangeError);
    assert.throws(() => Handlers.from({ timeouts: { connect: Number.POSITIVE_INFINITY } }), RangeError);
  });

  test('the default timeout is 5 s', () => {
    assert.equal(DEFAULT_TIMEOUT_MS, 5000);
  });
});

describe('interceptors', () => {
  /** An interceptor recording when it enters and leaves. */
  function tracer(trace: string[], name: string): (r: AnyRequest, next: Next<AnyRequest>) => Promise<void> {
    return async (r, next) => {
      trace.push(`>${name}`);
      await next(r);
      trace.push(`<${name}`);
    };
  }

  test("'*' outermost, then the type's own, each in order; object interceptors too; config key order does not matter", async () => {
    const { log } = captureLogger();
    const trace: string[] = [];
    const h = Handlers.from({
      // '*' listed last on purpose.
      interceptors: {
        rpc: [tracer(trace, 'rpc1'), { intercept: (r: AnyRequest, next: Next<AnyRequest>) => tracer(trace, 'rpc2')(r, next) }],
        publish: [tracer(trace, 'publish-only')],
        '*': [tracer(trace, 'all1'), tracer(trace, 'all2')],
      },
      services: {
        rpc: (r) => {
          trace.push('service');
          r.respond(new RPCResponse());
        },
      },
    });
    await h.run<'rpc'>(requests.rpc(log), log);
    // The answer goes out as soon as it is given; the interceptors unwind after it.
    await until(() => trace.length === 9);
    assert.deepEqual(trace, ['>all1', '>all2', '>rpc1', '>rpc2', 'service', '<rpc2', '<rpc1', '<all2', '<all1']);
  });

  test('intercept() appends: interceptors added later run after earlier ones', async () => {
    const { log } = captureLogger();
    const trace: string[] = [];
    const h = new Handlers()
      .intercept('rpc', tracer(trace, 'a'))
      .intercept('*', tracer(trace, 'star1'))
      .intercept('rpc', tracer(trace, 'b'), tracer(trace, 'c'))
      .intercept('*', tracer(trace, 'star2'))
      .service('rpc', (r) => r.respond(new RPCResponse()));
    await h.run<'rpc'>(requests.rpc(log), log);
    assert.deepEqual(trace.filter((t) => t.startsWith('>')), ['>star1', '>star2', '>a', '>b', '>c']);
  });

  test('an interceptor replaces the request with withAttribute; the original does not see it', async () => {
    const { log } = captureLogger();
    let original: AnyRequest | undefined;
    let seen: AnyRequest | undefined;
    const h = Handlers.from({
      interceptors: {
        '*': [
          (r, next) => {
            original = r;
            return next(r.withAttribute('userId', 'from-auth'));
          },
        ],
        rpc: [(r, next) => next(r.withAttribute('tenant', 'acme'))],
      },
      services: {
        rpc: (r) => {
          seen = r;
          r.respond(new RPCResponse({ data: [r.getAttribute('userId'), r.getAttribute('tenant')] }));
        },
      },
    });
    const out = await h.run<'rpc'>(requests.rpc(log), log);
    assert.deepEqual(out.kind === 'respond' && out.response.fields.data, ['from-auth', 'acme']);
    assert.notEqual(seen, original);
    assert.equal(original!.getAttribute('userId'), undefined);
    assert.equal(original!.getAttribute('tenant'), undefined);
    // The original shares the answer given on the copy.
    assert.equal(original!.answered, true);
  });

  test('an interceptor short-circuits with error or disconnect without calling next: the service is not called', async () => {
    const { log } = captureLogger();
    let called = 0;
    const h = Handlers.from({
      interceptors: {
        rpc: [(r) => r.error(403, 'forbidden')],
        connect: [(r) => r.disconnect(4501, 'Connection is not allowed.')],
      },
      services: {
        rpc: (r) => {
          called++;
          r.respond(new RPCResponse());
        },
        connect: (r) => {
          called++;
          r.respond(new ConnectResponse({ user: 'x' }));
        },
      },
    });
    assert.deepEqual(await h.run<'rpc'>(requests.rpc(log), log), { kind: 'error', error: { code: 403, message: 'forbidden' } });
    assert.deepEqual(await h.run<'connect'>(requests.connect(log), log), {
      kind: 'disconnect',
      disconnect: { code: 4501, reason: 'Connection is not allowed.' },
    });
    assert.equal(called, 0);
  });

  test('an interceptor wraps the call: after next() the request is answered (telemetry)', async () => {
    const { log } = captureLogger();
    const seen: Array<{ type: string; answeredBefore: boolean; answeredAfter: boolean }> = [];
    const h = Handlers.from({
      interceptors: {
        '*': [
          async (r, next) => {
            const answeredBefore = r.answered;
            await next(r);
            seen.push({ type: r.type, answeredBefore, answeredAfter: r.answered });
          },
        ],
      },
      services: {
        publish: async (r) => {
          await new Promise((res) => setTimeout(res, 5));
          r.respond(new PublishResponse());
        },
      },
    });
    await h.run<'publish'>(requests.publish(log), log);
    await until(() => seen.length === 1);
    assert.deepEqual(seen, [{ type: 'publish', answeredBefore: false, answeredAfter: true }]);
  });

  test('interceptors of a type without a service are not consulted (the config rules decide)', () => {
    const h = new Handlers().intercept('publish', (r) => r.error(1, 'x'));
    assert.equal(h.has('publish'), false);
  });
});

describe('always an answer', () => {
  test('a service that throws: error 100 and an error log line with the stack', async () => {
    const { log, lines } = captureLogger();
    const h = Handlers.from({
      services: {
        rpc: function brokenRpcService() {
          throw new Error('boom in service');
        },
      },
    });
    const out = await h.run<'rpc'>(requests.rpc(log), log);
    assert.deepEqual(out, { kind: 'error', error: INTERNAL });
    const line = lines.find((l) => l.level === ERROR);
    assert.ok(line, JSON.stringify(lines));
    assert.equal(line['type'], 'rpc');
    assert.equal(line['client'], 'client-1');
    const err = line['err'] as { message: string; stack: string };
    assert.equal(err.message, 'boom in service');
    assert.match(err.stack, /brokenRpcService/);
  });

  test('a thrown ProtocolException or DisconnectException answers with its own code', async () => {
    const { log } = captureLogger();
    const h = Handlers.from({
      services: {
        rpc: () => {
          throw new ProtocolException(Errors.permissionDenied);
        },
        publish: async () => {
          throw new DisconnectException({ code: 4500, reason: 'go away' });
        },
      },
    });
    assert.deepEqual(await h.run<'rpc'>(requests.rpc(log), log), { kind: 'error', error: Errors.permissionDenied });
    assert.deepEqual(await h.run<'publish'>(requests.publish(log), log), {
      kind: 'disconnect',
      disconnect: { code: 4500, reason: 'go away' },
    });
  });

  test('an async service that rejects, and an interceptor that throws: error 100 too', async () => {
    const { log, lines } = captureLogger();
    const h = Handlers.from({
      services: {
        rpc: async () => {
          await Promise.resolve();
          throw new Error('async boom');
        },
        publish: (r) => r.respond(new PublishResponse()),
      },
      interceptors: {
        publish: [
          () => {
            throw new TypeError('interceptor boom');
          },
        ],
      },
    });
    assert.deepEqual(await h.run<'rpc'>(requests.rpc(log), log), { kind: 'error', error: INTERNAL });
    assert.deepEqual(await h.run<'publish'>(requests.publish(log), log), { kind: 'error', error: INTERNAL });
    const errors = lines.filter((l) => l.level === ERROR).map((l) => (l['err'] as { message: string }).message);
    assert.deepEqual(errors, ['async boom', 'interceptor boom']);
  });

  test('a service that throws after answering keeps its answer (and the throw is logged)', async () => {
    const { log, lines } = captureLogger();
    const h = Handlers.from({
      services: {
        rpc: (r) => {
          r.respond(new RPCResponse({ data: 'ok' }));
          throw new Error('after the answer');
        },
      },
    });
    const out = await h.run<'rpc'>(requests.rpc(log), log);
    assert.equal(out.kind === 'respond' && out.response.fields.data, 'ok');
    await until(
      () => lines.some((l) => l.level === ERROR && (l['err'] as { message: string }).message === 'after the answer'),
      'the throw after the answer to be logged at error level',
    );
  });

  test('no answer within the timeout: error 100 temporary with a warning; a late answer is ignored with a warning', async () => {
    const { log, lines } = captureLogger();
    let late: RPCRequest | undefined;
    const h = Handlers.from({
      services: { rpc: (r) => void (late = r) },
      timeouts: { rpc: 50 },
    });
    const out = await h.run<'rpc'>(requests.rpc(log), log);
    assert.deepEqual(out, { kind: 'error', error: INTERNAL });
    const warn = lines.find((l) => l.level === WARN && /in time/.test(l.msg));
    assert.ok(warn, JSON.stringify(lines));
    assert.equal(warn['type'], 'rpc');
    assert.equal(warn['timeoutMs'], 50);
    late!.respond(new RPCResponse({ data: 'too late' }));
    const twice = lines.find((l) => l.level === WARN && /answered twice/.test(l.msg));
    assert.ok(twice);
    assert.equal(twice['first'], 'error');
    assert.equal(twice['second'], 'respond');
  });

  test('a service that returns without answering also ends in the timeout answer', async () => {
    const { log } = captureLogger();
    const h = new Handlers().service('publish', () => undefined).timeout('publish', 30);
    assert.deepEqual(await h.run<'publish'>(requests.publish(log), log), { kind: 'error', error: INTERNAL });
  });

  test('timeouts are per type', async () => {
    const { log } = captureLogger();
    const h = Handlers.from({
      services: {
        rpc: async (r) => {
          await new Promise((res) => setTimeout(res, 80));
          r.respond(new RPCResponse({ data: 'slow but allowed' }));
        },
        publish: async (r) => {
          await new Promise((res) => setTimeout(res, 80));
          r.respond(new PublishResponse());
        },
      },
      timeouts: { publish: 20 },
    });
    const rpc = await h.run<'rpc'>(requests.rpc(log), log);
    assert.equal(rpc.kind, 'respond');
    const pub = await h.run<'publish'>(requests.publish(log), log);
    assert.equal(pub.kind, 'error');
  });

  test('a second answer from the service is ignored with a warning', async () => {
    const { log, lines } = captureLogger();
    const h = Handlers.from({
      services: {
        rpc: (r) => {
          r.respond(new RPCResponse({ data: 1 }));
          r.respond(new RPCResponse({ data: 2 }));
        },
      },
    });
    const out = await h.run<'rpc'>(requests.rpc(log), log);
    assert.equal(out.kind === 'respond' && out.response.fields.data, 1);
    assert.equal(lines.filter((l) => l.level === WARN && /answered twice/.test(l.msg)).length, 1);
  });
});
