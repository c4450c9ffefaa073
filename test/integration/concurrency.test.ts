/**
 * `client.concurrency`: with a value above 1 the commands of one connection are processed
 * concurrently, up to that many at once (replies then come as each finishes, matched by id); with
 * 0 (the default) or 1 they run one after another. The connect runs alone: commands sent with it
 * wait for its reply. Two concurrent subscribes to one channel: one is answered 105.
 *
 * The RPCs are slow on demand: an in-process handler waits on a gate that the test opens, and
 * records which RPCs are in progress. Nothing is timed: "not started" is checked while the only
 * way for the command to start (another one finishing) has not happened yet.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { validateConfig } from '../../src/config/validate.js';
import { Handlers } from '../../src/handlers/pipeline.js';
import { RPCResponse } from '../../src/handlers/responses.js';
import { startGyre, until, type RawSocket, type TestGyre } from '../helpers/gyre.js';
import { once } from '../helpers/wait.js';

/** Gates the slow RPCs wait on, by key, and which are in progress. */
class SlowRpcs {
  readonly started: string[] = [];
  readonly inProgress = new Set<string>();
  /** Most RPCs of a key prefix in progress at once. */
  private readonly peaks = new Map<string, number>();
  private readonly gates = new Map<string, { promise: Promise<void>; open: () => void }>();

  private gate(key: string): { promise: Promise<void>; open: () => void } {
    let g = this.gates.get(key);
    if (g === undefined) {
      let open: () => void = () => {};
      const promise = new Promise<void>((resolve) => {
        open = resolve;
      });
      g = { promise, open };
      this.gates.set(key, g);
    }
    return g;
  }

  /** Lets the RPC with this key finish (before or after it started). */
  open(key: string): void {
    this.gate(key).open();
  }

  /** The handler's side: in progress until the key's gate opens. */
  async run(key: string): Promise<void> {
    this.started.push(key);
    this.inProgress.add(key);
    const prefix = key.replace(/\d+$/, '');
    const now = [...this.inProgress].filter((k) => k.replace(/\d+$/, '') === prefix).length;
    this.peaks.set(prefix, Math.max(this.peaks.get(prefix) ?? 0, now));
    await this.gate(key).promise;
    this.inProgress.delete(key);
  }

  peak(prefix: string): number {
    return this.peaks.get(prefix) ?? 0;
  }
}

const rpcs = new SlowRpcs();
const handlers = Handlers.from({
  services: {
    rpc: async (r) => {
      const key = (r.data as { key: string }).key;
      await rpcs.run(key);
      r.respond(new RPCResponse({ data: { key, user: r.user } }));
    },
  },
  timeouts: { rpc: 60_000 },
});

const gyres: TestGyre[] = [];
after(async () => {
  for (const g of gyres) await g.close();
});

async function gyreWith(concurrency: number | undefined): Promise<TestGyre> {
  const g = await startGyre(concurrency === undefined ? {} : { client: { concurrency } }, undefined, { handlers });
  gyres.push(g);
  return g;
}

function rpc(id: number, key: string): Record<string, unknown> {
  return { id, rpc: { method: 'slow', data: { key } } };
}

async function connectedRaw(gyre: TestGyre, user: string): Promise<RawSocket> {
  const s = await gyre.raw();
  await s.connect(await gyre.token(user));
  return s;
}

describe('client.concurrency', () => {
  describe('2', () => {
    let gyre: TestGyre;
    before(async () => {
      gyre = await gyreWith(2);
    });

    test('two slow RPCs of the SDK are in progress at once; the second answered first', async () => {
      const c = gyre.client({ token: await gyre.token('sdk-user') });
      const ready = once(c, 'connected', 'SDK connected');
      c.connect();
      await ready;
      const first = c.rpc('slow', { key: 'sdk1' });
      const second = c.rpc('slow', { key: 'sdk2' });
      await until(() => rpcs.inProgress.has('sdk1') && rpcs.inProgress.has('sdk2'), 'both slow RPCs in progress at once');
      let firstDone = false;
      void first.then(() => (firstDone = true));
      rpcs.open('sdk2');
      assert.deepEqual((await second).data, { key: 'sdk2', user: 'sdk-user' });
      assert.equal(firstDone, false, 'the first RPC is still in progress when the second is answered');
      rpcs.open('sdk1');
      assert.deepEqual((await first).data, { key: 'sdk1', user: 'sdk-user' });
      assert.equal(rpcs.peak('sdk'), 2);
      c.disconnect();
    });

    test('no more than 2 at once: a third waits until one finishes; every reply matched by its id', async () => {
      const s = await connectedRaw(gyre, 'cap-user');
      s.sendJson(rpc(2, 'cap1'), rpc(3, 'cap2'), rpc(4, 'cap3'));
      await until(() => rpcs.inProgress.has('cap1') && rpcs.inProgress.has('cap2'), 'two RPCs in progress');
      // Only a finishing command can start the third, and none has finished.
      assert.equal(rpcs.started.includes('cap3'), false, 'the third has not started');
      rpcs.open('cap2');
      assert.deepEqual(await s.reply(3), { id: 3, rpc: { data: { key: 'cap2', user: 'cap-user' } } });
      await until(() => rpcs.inProgress.has('cap3'), 'the third RPC started once one finished');
      rpcs.open('cap3');
      assert.deepEqual(await s.reply(4), { id: 4, rpc: { data: { key: 'cap3', user: 'cap-user' } } });
      rpcs.open('cap1');
      assert.deepEqual(await s.reply(2), { id: 2, rpc: { data: { key: 'cap1', user: 'cap-user' } } });
      assert.equal(rpcs.peak('cap'), 2);
    });

    test('the connect runs alone: an RPC sent in the same frame starts after the connect reply', async () => {
      const s = await gyre.raw();
      rpcs.open('early1');
      s.sendJson({ id: 1, connect: { token: await gyre.token('early-user') } }, rpc(2, 'early1'));
      const replies = [await s.next((m) => m['id'] === 1 || m['id'] === 2, 'the first reply'), await s.next((m) => m['id'] === 2, 'the RPC reply')];
      assert.equal(replies[0]!['id'], 1, 'the connect reply comes first');
      assert.deepEqual(replies[1], { id: 2, rpc: { data: { key: 'early1', user: 'early-user' } } }, 'the RPC ran as the connected user');
    });

    test('two concurrent subscribes to one channel: one subscribed, the other answered 105 (already subscribed)', async () => {
      const s = await connectedRaw(gyre, 'twice-user');
      s.sendJson({ id: 2, subscribe: { channel: 'twice' } }, { id: 3, subscribe: { channel: 'twice' } });
      const answers = [await s.reply(2), await s.reply(3)];
      const errors = answers.filter((a) => a['error'] !== undefined);
      assert.equal(errors.length, 1, JSON.stringify(answers));
      assert.equal((errors[0]!['error'] as { code: number }).code, 105);
      assert.equal(answers.filter((a) => a['subscribe'] !== undefined).length, 1, JSON.stringify(answers));
      assert.equal(gyre.server.node.hub.subscriberCount('twice'), 1);
    });
  });

  for (const value of [undefined, 1] as const) {
    describe(value === undefined ? '0 (the default): one command after another' : '1: one command after another', () => {
      let gyre: TestGyre;
      before(async () => {
        gyre = await gyreWith(value);
      });

      test('two slow RPCs are never in progress at once; replies in order', async () => {
        const p = `seq${value ?? 0}-`;
        const s = await connectedRaw(gyre, `${p}user`);
        s.sendJson(rpc(2, `${p}1`), rpc(3, `${p}2`));
        await until(() => rpcs.inProgress.has(`${p}1`), 'the first RPC in progress');
        // The second can start only once the first has finished, and it has not.
        assert.equal(rpcs.started.includes(`${p}2`), false, 'the second has not started');
        rpcs.open(`${p}2`);
        rpcs.open(`${p}1`);
        const first = await s.next((m) => m['id'] === 2 || m['id'] === 3, 'a reply');
        assert.equal(first['id'], 2, 'the first command is answered first');
        await s.reply(3);
        assert.equal(rpcs.peak(p), 1);
      });
    });
  }

  test('config: defaults to 0; a negative value is refused with the key named', () => {
    assert.equal(validateConfig({}).config.client.concurrency, 0);
    assert.equal(validateConfig({ client: { concurrency: 8 } }).warnings.length, 0, 'enforced: no "not enforced" warning');
    assert.throws(() => validateConfig({ client: { concurrency: -1 } }), /client\.concurrency: expected an integer >= 0/);
  });
});
