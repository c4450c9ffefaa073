/**
 * The server API drivers against a real Gyre node, each through its own path — `local` (the
 * in-process API), `http` (the HTTP server API on a real port), `grpc` (the gRPC server API) — with
 * a real `centrifuge` client receiving what was published: one topic and several, Stringable
 * topics, several messages in order, history kept by default (checked with the history API),
 * skipHistory, tags, and typed errors for refused channels.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { PublicationContext } from 'centrifuge';
import { GrpcApiClient } from '../../src/api/client/grpc.js';
import type { ServerApiClient } from '../../src/api/client/types.js';
import type { ServerApi } from '../../src/api/server-api.js';
import type { ApiBroadcastRequest, ApiPublishRequest } from '../../src/api/types.js';
import { GyreApi } from '../../src/api/in-process.js';
import { BroadcastError, BroadcastManager, LocalBroadcast, type Broadcast } from '../../src/broadcasting/index.js';
import { API_KEY, once, startGyre, until, type TestGyre } from '../helpers/gyre.js';
import { startSpy, type Endpoint } from './endpoint.js';

const GRPC_KEY = 'grpc-test-key';

class Order {
  constructor(readonly uuid: string) {}
  toString(): string {
    return `order.${this.uuid}`;
  }
}

/** The node's own server API (still a ServerApi), recording which method the driver chose. */
function spyServerApi(inner: ServerApi, calls: string[]): ServerApi {
  return Object.assign(Object.create(inner) as ServerApi, {
    publish: (req: ApiPublishRequest) => (calls.push('publish'), inner.publish(req)),
    broadcast: (req: ApiBroadcastRequest) => (calls.push('broadcast'), inner.broadcast(req)),
  });
}

/** A real gRPC client, recording the calls the driver made. */
function spyClient(inner: ServerApiClient, calls: string[]): ServerApiClient {
  return Object.assign(Object.create(inner) as ServerApiClient, {
    publish: (req: ApiPublishRequest) => (calls.push('publish'), inner.publish(req)),
    broadcast: (req: ApiBroadcastRequest) => (calls.push('broadcast'), inner.broadcast(req)),
  });
}

let g: TestGyre;
let manager: BroadcastManager;
let spy: Endpoint;
let localApi: ServerApi;
const localCalls: string[] = [];
let grpcInner: GrpcApiClient;
const grpcCalls: string[] = [];

before(async () => {
  g = await startGyre({ grpc_api: { enabled: true, port: 0, address: '127.0.0.1', key: GRPC_KEY } });
  spy = await startSpy(g.baseUrl);
  localApi = spyServerApi(g.server.api, localCalls);
  const grpcAddress = `127.0.0.1:${g.server.grpcApiPort!}`;
  grpcInner = new GrpcApiClient({ address: grpcAddress, apiKey: GRPC_KEY });
  manager = new BroadcastManager(
    {
      default: 'local',
      connections: {
        local: { driver: 'local', gyre: localApi, backoffMs: 1 },
        http: { driver: 'http', url: `${spy.url}/api`, apiKey: API_KEY, backoffMs: 1 },
        grpc: { driver: 'grpc', address: grpcAddress, apiKey: GRPC_KEY, backoffMs: 1 },
        grpcSpy: { driver: 'grpc', client: spyClient(grpcInner, grpcCalls) },
        localSkip: { driver: 'local', gyre: localApi, skipHistory: true, tags: { source: 'local' } },
        httpSkip: { driver: 'http', url: `${spy.url}/api`, apiKey: API_KEY, skipHistory: true, tags: { source: 'http' } },
        grpcSkip: { driver: 'grpc', address: grpcAddress, apiKey: GRPC_KEY, skipHistory: true, tags: { source: 'grpc' } },
      },
    },
    { env: {} },
  );
});

after(async () => {
  await manager.close();
  await grpcInner.close();
  await spy.close();
  await g.close();
});

/** A connected client subscribed to `channels`, collecting publications per channel. */
async function subscriber(channels: string[]): Promise<{ got: Map<string, PublicationContext[]>; wait(channel: string, n: number): Promise<void> }> {
  const c = g.client({ token: await g.token('watcher') });
  c.connect();
  const got = new Map<string, PublicationContext[]>();
  for (const channel of channels) {
    got.set(channel, []);
    const sub = c.newSubscription(channel);
    sub.on('publication', (ctx) => got.get(channel)!.push(ctx));
    sub.subscribe();
    await once(sub, 'subscribed');
  }
  return { got, wait: (channel, n) => until(() => got.get(channel)!.length >= n) };
}

async function history(channel: string): Promise<unknown[]> {
  const res = (await g.api('history', { channel, limit: 100 })) as { result: { publications: Array<{ data: unknown }> } };
  return res.result.publications.map((p) => p.data);
}

async function failure(p: Promise<unknown>): Promise<BroadcastError> {
  const e = await p.then(
    () => assert.fail('expected a rejection'),
    (err: unknown) => err,
  );
  assert.ok(e instanceof BroadcastError, `expected a BroadcastError, got ${String(e)}`);
  return e;
}

/** Which API method each driver used for its calls since `mark()`. */
const methods: Record<string, { mark(): number; since(m: number): string[] }> = {
  local: { mark: () => localCalls.length, since: (m) => localCalls.slice(m) },
  http: { mark: () => spy.requests.length, since: (m) => spy.requests.slice(m).map((r) => r.path.replace('/api/', '')) },
  grpcSpy: { mark: () => grpcCalls.length, since: (m) => grpcCalls.slice(m) },
};

for (const driver of ['local', 'http', 'grpc'] as const) {
  describe(`${driver} driver`, () => {
    const conn = (): Broadcast => manager.connection(driver);

    test('one topic: the client receives it, and history keeps it (skipHistory defaults to false)', async () => {
      const topic = `${driver}-one`;
      const s = await subscriber([topic]);
      await conn().publish(topic, { status: 'purchased' });
      await s.wait(topic, 1);
      assert.deepEqual(s.got.get(topic)![0]!.data, { status: 'purchased' });
      assert.deepEqual(await history(topic), [{ status: 'purchased' }]);
    });

    test('several topics (strings and Stringables) get every message, in order; history kept in each', async () => {
      const order = new Order(`${driver}-a1`);
      const other = `${driver}-orders`;
      const s = await subscriber([String(order), other]);
      await conn().publish([order, other], ['hello', Buffer.from('{"from":"bytes"}'), { n: 3 }, [1, 2]]);
      const expected = ['hello', { from: 'bytes' }, { n: 3 }, [1, 2]];
      for (const topic of [String(order), other]) {
        await s.wait(topic, 4);
        assert.deepEqual(s.got.get(topic)!.map((p) => p.data), expected);
        assert.deepEqual(await history(topic), expected);
      }
    });

    test('skipHistory: delivered, not kept; tags reach the client', async () => {
      const topic = `${driver}-skip`;
      const s = await subscriber([topic]);
      await manager.connection(`${driver}Skip`).publish(topic, { n: 1 });
      await s.wait(topic, 1);
      assert.deepEqual(s.got.get(topic)![0]!.tags, { source: driver });
      assert.deepEqual(await history(topic), []);
    });

    test('a refused channel is a BroadcastError with the code, topic, driver and connection', async () => {
      const e = await failure(conn().publish('nope:x', 'x'));
      assert.equal(e.code, 102);
      assert.equal(e.topic, 'nope:x');
      assert.equal(e.temporary, false);
      assert.equal(e.driver, driver);
      assert.equal(e.connection, driver);
      assert.match(e.message, /unknown channel/);
    });

    test('several topics, one refused: the others get it, the error names the refused one', async () => {
      const good = `${driver}-good`;
      const s = await subscriber([good]);
      const e = await failure(conn().publish([good, 'nope:y'], { n: 1 }));
      assert.equal(e.topic, 'nope:y');
      assert.deepEqual(e.topics, ['nope:y']);
      assert.equal(e.code, 102);
      await s.wait(good, 1);
      assert.deepEqual(await history(good), [{ n: 1 }]);
    });
  });
}

describe('publish or broadcast', () => {
  for (const driver of ['local', 'http', 'grpcSpy'] as const) {
    test(`${driver}: one topic is a publish, several are one broadcast per message`, async () => {
      const spyOf = methods[driver]!;
      let m = spyOf.mark();
      await manager.connection(driver).publish(`${driver}-pb1`, [1, 2]);
      assert.deepEqual(spyOf.since(m), ['publish', 'publish']);
      m = spyOf.mark();
      await manager.connection(driver).publish([`${driver}-pb1`, `${driver}-pb2`, `${driver}-pb1`], [1, 2]);
      assert.deepEqual(spyOf.since(m), ['broadcast', 'broadcast']);
    });
  }

  test('http: the request bodies (history kept: no skip_history sent)', async () => {
    const m = spy.requests.length;
    await manager.connection('http').publish(['body-1', 'body-2'], { a: 1 });
    await manager.connection('httpSkip').publish('body-3', { b: 2 });
    assert.deepEqual(
      spy.requests.slice(m).map((r) => [r.path, r.json]),
      [
        ['/api/broadcast', { channels: ['body-1', 'body-2'], data: { a: 1 } }],
        ['/api/publish', { channel: 'body-3', data: { b: 2 }, skip_history: true, tags: { source: 'http' } }],
      ],
    );
  });

  test('the default connection is local here: manager.publish goes into the node', async () => {
    const s = await subscriber(['default-local']);
    const m = localCalls.length;
    const httpMark = spy.requests.length;
    await manager.publish(new Set(['default-local']), 'hi');
    // Through the local connection's server API (one topic: a publish), not over the network.
    assert.deepEqual(localCalls.slice(m), ['publish']);
    assert.equal(spy.requests.length, httpMark);
    await s.wait('default-local', 1);
    assert.deepEqual(
      s.got.get('default-local')!.map((p) => p.data),
      ['hi'],
    );
    assert.deepEqual(await history('default-local'), ['hi']);
  });
});

describe('local driver targets', () => {
  test('gyre may be the node\'s server API, a GyreApi over it, or a Gyre ({api}): each publishes into the node', async () => {
    const targets = { serverApi: g.server.api, gyreApi: new GyreApi(g.server.api), gyre: { api: new GyreApi(g.server.api) } };
    for (const [name, gyre] of Object.entries(targets)) {
      const topic = `local-target-${name}`;
      const s = await subscriber([topic]);
      await new LocalBroadcast({ gyre }).publish(topic, { via: name });
      await s.wait(topic, 1);
      assert.deepEqual(s.got.get(topic)![0]!.data, { via: name }, name);
      assert.deepEqual(await history(topic), [{ via: name }], name);
    }
  });
});
