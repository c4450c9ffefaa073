/**
 * The unidirectional gRPC transport (`uni_grpc`) end to end: a real gRPC client built with
 * @grpc/grpc-js and @grpc/proto-loader from proto/unistream.proto (as a Centrifugo uni_grpc client
 * would be) against a real Gyre on its own port. The connect push first, publications of token and
 * personal channels (JSON as its bytes, binary data unchanged), pings as empty pushes, refused
 * connects as disconnect pushes then status OK, a malformed request as status INTERNAL, a server
 * API disconnect and a shutdown as disconnect pushes, a slow reader closed with 3008, the section
 * off: nothing listening.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ConnectResponse, Handlers } from '../../src/index.js';
import { startGyre, until, type TestGyre } from '../helpers/gyre.js';
import { SocketInbox, type CloseInfo } from '../helpers/inbox.js';
import { deadline, type WaitArg } from '../helpers/wait.js';

type Json = Record<string, any>;

const PROTO = fileURLToPath(new URL('../../proto/unistream.proto', import.meta.url));
const CONSUME = '/centrifugal.centrifugo.unistream.CentrifugoUniStream/Consume';

/** The client side, generated from the .proto as any gRPC user would. */
const definition = protoLoader.loadSync(PROTO, { keepCase: true, longs: Number, enums: String, defaults: false, oneofs: false });
const pkg = grpc.loadPackageDefinition(definition) as any;
const UniStreamClient = pkg.centrifugal.centrifugo.unistream.CentrifugoUniStream as grpc.ServiceClientConstructor;

/** uni_grpc on any free port, short pings, personal channels. */
const UNI = {
  client: { ping_interval: '1s', pong_timeout: '900ms', subscribe_to_user_personal_channel: { enabled: true } },
  uni_grpc: { enabled: true, address: '127.0.0.1', port: 0 },
};

const gyres: TestGyre[] = [];
const clients: grpc.Client[] = [];

async function gyreWith(overrides: Parameters<typeof startGyre>[0] = {}, handlers?: Handlers): Promise<TestGyre> {
  const g = await startGyre(overrides, undefined, handlers === undefined ? {} : { handlers });
  gyres.push(g);
  return g;
}

after(async () => {
  for (const c of clients) c.close();
  for (const g of gyres) await g.close();
});

function clientOf(g: TestGyre): grpc.Client {
  const port = g.server.uniGrpcPort;
  assert.ok(port !== undefined && port > 0, 'uni_grpc is listening');
  const c = new UniStreamClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  clients.push(c);
  return c;
}

/** One `Consume` call: the pushes received (decoded by proto-loader), then its status. */
class UniCall {
  readonly inbox = new SocketInbox<Json>('UniCall');
  readonly received: Json[] = [];
  status: grpc.StatusObject | undefined;

  constructor(readonly call: grpc.ClientReadableStream<Json>) {
    call.on('data', (m: Json) => {
      this.received.push(m);
      this.inbox.push(m);
    });
    // A non-OK status is also an 'error' event: the status is what the tests read.
    call.on('error', () => {});
    call.on('status', (s: grpc.StatusObject) => {
      this.status = s;
      this.inbox.closed(s.code, s.details);
    });
  }

  /** `client`: another client than a plain-text one to `g`'s port. */
  static open(g: TestGyre, request: Json, metadata = new grpc.Metadata(), client = clientOf(g)): UniCall {
    const consume = client as grpc.Client & { Consume(req: Json, md: grpc.Metadata): grpc.ClientReadableStream<Json> };
    return new UniCall(consume.Consume(request, metadata));
  }

  first(opts?: WaitArg): Promise<Json> {
    return this.inbox.next(() => true, opts);
  }

  next(pred: (m: Json) => boolean, opts?: WaitArg): Promise<Json> {
    return this.inbox.next(pred, opts);
  }

  /** The call's status (code and details) once it is over. */
  ended(opts?: WaitArg): Promise<CloseInfo> {
    return this.inbox.waitClosed(opts);
  }
}

/** A call of `Consume` with the request given as raw bytes (what a generated client cannot send). */
function rawCall(g: TestGyre, request: Buffer): Promise<grpc.StatusObject> {
  const client = new grpc.Client(`127.0.0.1:${g.server.uniGrpcPort}`, grpc.credentials.createInsecure());
  clients.push(client);
  const raw = (b: Buffer): Buffer => b;
  const call = client.makeServerStreamRequest(CONSUME, raw, raw, request, new grpc.Metadata());
  call.on('data', () => {});
  call.on('error', () => {});
  return deadline(10_000, () => 'rawCall: no status within 10000 ms', (resolve) => {
    call.on('status', resolve);
  });
}

/** The connect push: a bare Push with `connect` only, a session of its own, the ping interval, the subscriptions. */
function checkConnectPush(m: Json, channels: string[]): Json {
  assert.deepEqual(Object.keys(m), ['connect'], 'a bare Push, the connect one');
  const c = m['connect'] as Json;
  assert.match(c['client'], /^[0-9a-f-]{36}$/);
  assert.equal(typeof c['version'], 'string');
  assert.match(c['session'], /^[0-9a-f-]{36}$/);
  assert.notEqual(c['session'], c['client'], 'the session is not the client id');
  assert.equal(c['ping'], 1);
  assert.equal(c['pong'], undefined, 'a unidirectional client answers no ping');
  for (const ch of channels) assert.ok(ch in (c['subs'] ?? {}), `subscribed to ${ch} from the start`);
  return c;
}

const json = (b: Buffer): unknown => JSON.parse(b.toString('utf8'));

/** A later client with a good token still gets its connect push: the server keeps serving. */
async function assertServes(g: TestGyre): Promise<void> {
  const c = UniCall.open(g, { token: await g.token('serving') });
  assert.ok('connect' in (await c.first('the connect push of a later client')));
  c.call.cancel();
}

// =================================================================================================

describe('uni_grpc', () => {
  let gyre: TestGyre;
  before(async () => {
    gyre = await gyreWith(UNI);
  });

  test('a JWT connect: the connect push first, then token and personal channel publications, binary data, pings', async () => {
    const token = await gyre.token('42', { channels: ['news'] });
    const c = UniCall.open(gyre, { token, name: 'grpc-client', version: '1.0' });
    checkConnectPush(await c.first('the connect push'), ['news', '#42']);

    await gyre.server.api.publish({ channel: 'news', data: { n: 1 } });
    const pub = await c.next((m) => m['channel'] === 'news', 'the publication on news');
    assert.ok(Buffer.isBuffer(pub['pub']['data']));
    assert.equal(pub['pub']['data'].toString('utf8'), '{"n":1}', 'JSON travels as its bytes');
    assert.equal(pub['pub']['offset'], 1);

    await gyre.server.api.publish({ channel: '#42', data: { personal: true } });
    const personal = await c.next((m) => m['channel'] === '#42', 'the publication on the personal channel');
    assert.deepEqual(json(personal['pub']['data']), { personal: true });

    const binary = Buffer.from([0xff, 0x00, 0x01, 0xfe]);
    const published = (await gyre.api('publish', { channel: 'news', b64data: binary.toString('base64') })) as Json;
    assert.equal(published['result']['offset'], 2);
    const raw = await c.next((m) => m['channel'] === 'news', 'the binary publication');
    assert.deepEqual(raw['pub']['data'], binary, 'binary data arrives unchanged');

    assert.deepEqual(await c.next((m) => Object.keys(m).length === 0, { timeoutMs: 5000, what: 'a ping (an empty Push)' }), {});
    assert.equal(c.status, undefined, 'the stream is still open');

    const seen = gyre.server.node.clientCount;
    c.call.cancel();
    await until(() => gyre.server.node.clientCount === seen - 1, 'the cancelled call to be unregistered');
  });

  test('a recovering connect: the subs of the request go to the connect (recovered publications in the connect push)', async () => {
    const token = await gyre.token('rec', { channels: ['recov'] });
    const first = UniCall.open(gyre, { token });
    const sub = ((await first.first())['connect'] as Json)['subs']['recov'] as Json;
    first.call.cancel();
    await gyre.server.api.publish({ channel: 'recov', data: { missed: 1 } });
    const again = UniCall.open(gyre, { token, subs: { recov: { recover: true, epoch: sub['epoch'], offset: sub['offset'] ?? 0 } } });
    const recovered = ((await again.first())['connect'] as Json)['subs']['recov'] as Json;
    assert.equal(recovered['recovered'], true);
    assert.deepEqual(
      (recovered['publications'] as Json[]).map((p) => json(p['data'])),
      [{ missed: 1 }],
    );
    again.call.cancel();
  });

  test('a bad token: the disconnect push 3500, then the stream ends with status OK; the server keeps serving', async () => {
    const c = UniCall.open(gyre, { token: 'not.a.token' });
    assert.deepEqual(await c.first('the disconnect push'), { disconnect: { code: 3500, reason: 'invalid token' } });
    assert.deepEqual(await c.ended(), { code: grpc.status.OK, reason: 'OK' });
    assert.deepEqual(c.received, [{ disconnect: { code: 3500, reason: 'invalid token' } }], 'nothing else');
    await assertServes(gyre);
  });

  test('an expired token: 3005; no token (anonymous not allowed): 3501', async () => {
    const expired = UniCall.open(gyre, { token: await gyre.token('42', {}, -60) });
    assert.deepEqual(await expired.first(), { disconnect: { code: 3005, reason: 'connection expired' } });
    assert.equal((await expired.ended()).code, grpc.status.OK);
    const anonymous = UniCall.open(gyre, {});
    assert.deepEqual(await anonymous.first(), { disconnect: { code: 3501, reason: 'bad request' } });
    assert.equal((await anonymous.ended()).code, grpc.status.OK);
  });

  test('a malformed request message: status INTERNAL, no push; the server keeps serving', async () => {
    // Field 1 (token) announcing 5 bytes with 2 present; then a string field with invalid UTF-8.
    for (const bytes of [Buffer.from([0x0a, 0x05, 0x61, 0x62]), Buffer.from([0x0a, 0x02, 0xc3, 0x28]), Buffer.from([0xff])]) {
      const status = await rawCall(gyre, bytes);
      assert.equal(status.code, grpc.status.INTERNAL, `${bytes.toString('hex')}: ${status.details}`);
      assert.match(status.details, /failed to unmarshal/);
    }
    assert.ok(gyre.logs.some((l) => l.msg === 'malformed connect request' && l['transport'] === 'uni_grpc'));
    // An empty message is an empty ConnectRequest: an anonymous connect, refused here with 3501.
    const anonymous = UniCall.open(gyre, {});
    assert.equal((await anonymous.first())['disconnect']['code'], 3501);
    await assertServes(gyre);
  });

  test('a server API disconnect: the disconnect push, then the stream ends with status OK', async () => {
    const c = UniCall.open(gyre, { token: await gyre.token('dc-grpc') });
    await c.first('the connect push');
    assert.deepEqual(await gyre.api('disconnect', { user: 'dc-grpc', disconnect: { code: 4501, reason: 'go away' } }), { result: {} });
    assert.deepEqual(await c.next((m) => 'disconnect' in m), { disconnect: { code: 4501, reason: 'go away' } });
    assert.deepEqual(await c.ended(), { code: grpc.status.OK, reason: 'OK' });
    const d = UniCall.open(gyre, { token: await gyre.token('dc-grpc') });
    await d.first('the connect push');
    await gyre.api('disconnect', { user: 'dc-grpc' });
    assert.deepEqual(await d.next((m) => 'disconnect' in m), { disconnect: { code: 3503, reason: 'force disconnect' } });
    assert.equal((await d.ended()).code, grpc.status.OK);
  });

  test('the server API subscribe and unsubscribe reach the stream as subscribe / unsubscribe pushes', async () => {
    const c = UniCall.open(gyre, { token: await gyre.token('subs-grpc') });
    await c.first('the connect push');
    await gyre.api('subscribe', { user: 'subs-grpc', channel: 'later' });
    const sub = await c.next((m) => 'subscribe' in m, 'the subscribe push');
    assert.equal(sub['channel'], 'later');
    await gyre.server.api.publish({ channel: 'later', data: { after: 'subscribe' } });
    assert.deepEqual(json((await c.next((m) => m['channel'] === 'later' && 'pub' in m))['pub']['data']), { after: 'subscribe' });
    await gyre.api('unsubscribe', { user: 'subs-grpc', channel: 'later' });
    const unsub = await c.next((m) => 'unsubscribe' in m, 'the unsubscribe push');
    assert.equal(unsub['channel'], 'later');
    assert.equal(typeof unsub['unsubscribe']['code'], 'number');
    c.call.cancel();
  });
});

// =================================================================================================

describe('uni_grpc: handlers, limits, shutdown, configuration', () => {
  test('connect handlers see the transport, the protocol, the call metadata as headers and the request data', async () => {
    const seen: Json[] = [];
    const handlers = Handlers.from({
      services: {
        connect: (r) => {
          seen.push({ transport: r.transport, protocol: r.protocol, custom: r.headers['x-custom'], data: r.data, name: r.name });
          if ((r.data as Json | undefined)?.['deny'] === true) return r.disconnect(4501, 'not you');
          if ((r.data as Json | undefined)?.['fail'] === true) return r.error(1500, 'app error');
          r.respond(new ConnectResponse({ user: 'handled' }));
        },
      },
    });
    const g = await gyreWith(UNI, handlers);
    const md = new grpc.Metadata();
    md.set('x-custom', 'from-metadata');
    const ok = UniCall.open(g, { data: Buffer.from('{"hello":"grpc"}'), name: 'app' }, md);
    checkConnectPush(await ok.first(), ['#handled']);
    ok.call.cancel();
    assert.deepEqual(seen[0], { transport: 'uni_grpc', protocol: 'protobuf', custom: 'from-metadata', data: { hello: 'grpc' }, name: 'app' });
    const denied = UniCall.open(g, { data: Buffer.from('{"deny":true}') });
    assert.deepEqual(await denied.first(), { disconnect: { code: 4501, reason: 'not you' } });
    assert.equal((await denied.ended()).code, grpc.status.OK);
    const failed = UniCall.open(g, { data: Buffer.from('{"fail":true}') });
    assert.deepEqual(await failed.first(), { disconnect: { code: 3004, reason: 'internal server error' } });
  });

  test('uni_grpc.max_receive_message_size: a larger request ends with RESOURCE_EXHAUSTED', async () => {
    const g = await gyreWith({ ...UNI, uni_grpc: { ...UNI.uni_grpc, max_receive_message_size: 1024 } });
    const c = UniCall.open(g, { token: 'x'.repeat(2000) });
    assert.equal((await c.ended()).code, grpc.status.RESOURCE_EXHAUSTED);
    assert.deepEqual(c.received, []);
    await assertServes(g);
  });

  test('client.connection_rate_limit counts uni_grpc calls: past it, status UNAVAILABLE', async () => {
    const g = await gyreWith({ ...UNI, client: { ...UNI.client, connection_rate_limit: 1 } });
    const token = await g.token('rate');
    // Both within one second (retried for the rare case the second boundary falls between them).
    await until(async () => {
      const a = UniCall.open(g, { token });
      const b = UniCall.open(g, { token });
      // 'pushed' (the connect push came), or the status the call ended with first.
      const outcome = (c: UniCall): Promise<string | number> => c.first().then(
        () => 'pushed',
        async () => (await c.ended()).code,
      );
      const [first, second] = await Promise.all([outcome(a), outcome(b)]);
      a.call.cancel();
      b.call.cancel();
      const outcomes = [first, second];
      return outcomes.includes('pushed') && outcomes.includes(grpc.status.UNAVAILABLE);
    }, 'one call accepted and one refused within a second');
  });

  test('shutdown: the disconnect push 3001, then status OK', async () => {
    const g = await startGyre(UNI);
    const c = UniCall.open(g, { token: await g.token('1') });
    await c.first('the connect push');
    await g.close();
    assert.deepEqual(await c.next((m) => 'disconnect' in m), { disconnect: { code: 3001, reason: 'shutdown' } });
    assert.equal((await c.ended()).code, grpc.status.OK);
  });

  test('a reader that stops reading is closed with 3008, its disconnect push after what it was sent', async () => {
    const g = await gyreWith({ ...UNI, client: { ...UNI.client, ping_interval: '25s', queue_max_size: 1024 * 1024 } });
    const c = UniCall.open(g, { token: await g.token('slow', { channels: ['firehose'] }) });
    await c.first('the connect push');
    c.call.pause();
    const slow = (): boolean => g.logs.some((l) => l.msg.startsWith('client too slow') && l['code'] === 3008);
    let published = 0;
    const chunk = 'x'.repeat(16 * 1024);
    while (!slow() && published < 256 * 1024 * 1024) {
      const all: Array<Promise<unknown>> = [];
      for (let i = 0; i < 4; i++) {
        published += chunk.length;
        all.push(g.server.api.publish({ channel: 'firehose', data: chunk }));
      }
      await Promise.all(all);
      await nextTurn();
    }
    assert.ok(slow(), `no 3008 "client too slow" line after ${published} bytes`);
    assert.ok(published > 1024 * 1024, `closed only once more than queue_max_size was published (${published} bytes)`);
    await until(() => g.server.node.clientCount === 0, 'the slow client to be unregistered');
    c.call.resume();
    assert.deepEqual(await c.next((m) => 'disconnect' in m, 'the 3008 disconnect push'), { disconnect: { code: 3008, reason: 'slow' } });
    assert.equal((await c.ended()).code, grpc.status.OK);
    assert.deepEqual(c.received.at(-1), { disconnect: { code: 3008, reason: 'slow' } }, 'the disconnect push is the last one');
    assert.ok(c.received.length > 2, 'publications were delivered before the close');
  });

  test('uni_grpc.tls: the stream over TLS', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'gyre-uni-grpc-tls-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    const made = spawnSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'],
      { stdio: 'ignore', timeout: 10_000 },
    );
    if (made.status !== 0) {
      t.skip('openssl is not available to make a test certificate');
      return;
    }
    const g = await gyreWith({ ...UNI, uni_grpc: { ...UNI.uni_grpc, tls: { enabled: true, cert_pem_file: cert, key_pem_file: key } } });
    const tlsClient = new UniStreamClient(`127.0.0.1:${g.server.uniGrpcPort}`, grpc.credentials.createSsl(readFileSync(cert)), {
      'grpc.ssl_target_name_override': 'localhost',
    });
    clients.push(tlsClient);
    const c = UniCall.open(g, { token: await g.token('tls', { channels: ['secure'] }) }, undefined, tlsClient);
    checkConnectPush(await c.first('the connect push over TLS'), ['secure']);
    await g.server.api.publish({ channel: 'secure', data: { over: 'tls' } });
    assert.deepEqual(json((await c.next((m) => m['channel'] === 'secure'))['pub']['data']), { over: 'tls' });
    c.call.cancel();
    // A plain-text client gets no stream from a TLS port.
    const plain = UniCall.open(g, { token: await g.token('tls') });
    assert.equal((await plain.ended()).code, grpc.status.UNAVAILABLE);
  });

  test('uni_grpc off (the default): nothing listens on its port', async () => {
    const port = await freePort();
    const g = await gyreWith({ uni_grpc: { enabled: false, address: '127.0.0.1', port } });
    assert.equal(g.server.uniGrpcPort, undefined);
    const refused = await deadline<boolean>(10_000, () => 'no answer from the port', (resolve) => {
      const s = tcpConnect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(false);
      });
      s.once('error', () => resolve(true));
    });
    assert.ok(refused, `nothing listens on ${port}`);
  });

  test('config: uni_grpc keys are typed (no "not supported" warning), TLS needs its files, the port differs from the others', async () => {
    const { validateConfig } = await import('../../src/config/validate.js');
    const { config, warnings } = validateConfig({ uni_grpc: { enabled: true, port: 11001, max_receive_message_size: 1024 } }) as {
      config: Json;
      warnings: string[];
    };
    assert.equal(config['uni_grpc']['port'], 11001);
    assert.equal(config['uni_grpc']['address'], '');
    assert.equal(config['uni_grpc']['tls']['enabled'], false);
    assert.ok(!warnings.some((w) => w.includes('uni_grpc')), warnings.join('\n'));
    assert.equal(validateConfig({}).config.uni_grpc.port, 11000);
    assert.equal(validateConfig({ uni_grpc: true }).config.uni_grpc.enabled, true, 'the older on/off switch');
    assert.throws(() => validateConfig({ uni_grpc: { enabled: true, tls: { enabled: true } } }), /uni_grpc\.tls/);
    assert.throws(() => validateConfig({ uni_grpc: { enabled: true, port: 8000 } }), /uni_grpc\.port/);
    assert.throws(() => validateConfig({ uni_grpc: { enabled: true, port: 10000 }, grpc_api: { enabled: true } }), /uni_grpc\.port/);
  });
});

/** A port nothing listens on (just released by the OS). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
