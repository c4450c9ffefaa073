/**
 * Compile-time checks of the handler API's types (the file must typecheck under `strict`): inline
 * services and interceptors get their parameters typed from their slot, as in the README; an
 * interceptor written for any request fits every slot; one written for a type fits only that slot.
 * The runtime part only proves the registrations work.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ConnectResponse,
  Handlers,
  RPCResponse,
  SubscribeResponse,
  type AnyRequest,
  type Interceptor,
  type Next,
  type RPCRequest,
  type ConnectRequest,
} from '../../src/index.js';
import { captureLogger, requests } from './helpers.js';

/** Written for any request. */
async function telemetry(request: AnyRequest, next: Next<AnyRequest>): Promise<void> {
  await next(request);
}

/** Written for RPC requests only. */
async function rpcOnly(request: RPCRequest, next: Next<RPCRequest>): Promise<void> {
  await next(request.withAttribute('method', request.method));
}

test('inline and named interceptors and services typecheck in the config object', async () => {
  const trace: string[] = [];
  const handlers = Handlers.from({
    services: {
      connect: (request) => request.respond(new ConnectResponse({ user: String(request.name) })),
      rpc: (request) => request.respond(new RPCResponse({ data: [request.method, request.getAttribute('tenant')] })),
      subscribe: { handle: (request) => request.respond(new SubscribeResponse({ data: request.channel })) },
    },
    interceptors: {
      '*': [
        telemetry,
        async (request, next) => {
          trace.push(request.type);
          await next(request);
        },
      ],
      // An inline interceptor of a type: `request` is an RPCRequest, `next` takes it.
      rpc: [(request, next) => next(request.withAttribute('tenant', `acme-${request.method}`)), telemetry, rpcOnly],
      connect: [telemetry, { intercept: (request, next) => next(request.withAttribute('v', request.version)) }],
    },
  });
  const { log } = captureLogger();
  const out = await handlers.run<'rpc'>(requests.rpc(log, 'm'), log);
  assert.deepEqual(out.kind === 'respond' && out.response.fields.data, ['m', 'acme-m']);
  assert.deepEqual(trace, ['rpc']);
});

test('inline and named interceptors typecheck fluently', () => {
  const h = new Handlers()
    .intercept('*', async (request, next) => {
      const t: string = request.type;
      await next(request);
      void t;
    })
    .intercept('rpc', (request, next) => next(request.withAttribute('m', request.method)), rpcOnly, telemetry)
    .intercept('connect', (request: ConnectRequest, next: Next<ConnectRequest>) => next(request))
    .service('rpc', (request) => request.respond(new RPCResponse({ data: request.method })))
    .service('subscribe', { handle: async (request) => request.respond(new SubscribeResponse({ info: request.channel })) });
  assert.ok(h.has('rpc'));
});

test('an interceptor of one type does not fit another slot or the "*" slot', () => {
  // @ts-expect-error: an RPC interceptor cannot intercept every request
  Handlers.from({ interceptors: { '*': [rpcOnly] } });
  // @ts-expect-error: nor publish requests
  Handlers.from({ interceptors: { publish: [rpcOnly] } });
  // @ts-expect-error: fluently neither
  new Handlers().intercept('*', rpcOnly);
  const generic: Interceptor<AnyRequest> = telemetry;
  const forRpc: Interceptor<RPCRequest> = generic;
  // @ts-expect-error: a type's interceptor is not an interceptor of any request
  const back: Interceptor<AnyRequest> = rpcOnly;
  assert.equal(typeof forRpc, typeof back);
});
