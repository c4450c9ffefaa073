/**
 * The NATS broker against the real NATS (127.0.0.1:4222, subjects under a prefix unique to this
 * run): PUB/SUB between two brokers with the wire format, join/leave, unsubscribe, channel names
 * that are no valid subjects, the control bus, no history (108); and, on a private nats-server,
 * what happens when NATS goes away and comes back.
 */
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { pino } from 'pino';
import type { NatsConfig } from '../../src/config/types.js';
import { NatsBroker, NatsControlBus } from '../../src/engine/nats/broker.js';
import { NatsConn } from '../../src/engine/nats/connection.js';
import type { BrokerEventHandler, PublishOptions } from '../../src/engine/types.js';
import { ProtocolException } from '../../src/protocol/codes.js';
import type { ClientInfo, Publication, StreamPosition } from '../../src/protocol/types.js';
import { until } from '../helpers/gyre.js';
import { NATS_URL, OwnNats, serviceTest, uniquePrefix } from '../helpers/services.js';

const log = pino({ level: 'silent' });
const prefix = uniquePrefix();
const OPTS: PublishOptions = { history: { size: 10, ttl: 60_000, metaTtl: 3_600_000 } };

const cleanup: Array<() => Promise<void>> = [];
after(async () => {
  for (const f of cleanup.reverse()) await f().catch(() => {});
});

class Events implements BrokerEventHandler {
  readonly pubs: Array<{ channel: string; pub: Publication; position: StreamPosition; useDelta: boolean }> = [];
  readonly joinLeave: Array<[string, string, ClientInfo]> = [];
  readonly lost: string[][] = [];
  onPublication(channel: string, pub: Publication, position: StreamPosition, useDelta: boolean): void {
    this.pubs.push({ channel, pub, position, useDelta });
  }
  onJoin(channel: string, info: ClientInfo): void {
    this.joinLeave.push([channel, 'join', info]);
  }
  onLeave(channel: string, info: ClientInfo): void {
    this.joinLeave.push([channel, 'leave', info]);
  }
  onStateLost(channels: readonly string[]): void {
    this.lost.push([...channels]);
  }
}

function natsConfig(url = NATS_URL): NatsConfig {
  return { url, prefix, dial_timeout: 1000, write_timeout: 1000 };
}

async function broker(url?: string): Promise<{ broker: NatsBroker; events: Events; conn: NatsConn }> {
  const conn = new NatsConn(natsConfig(url), log);
  const b = new NatsBroker(conn, log);
  const events = new Events();
  await b.run(events);
  cleanup.push(() => b.close());
  return { broker: b, events, conn };
}

serviceTest('nats broker: publications, join and leave reach other nodes; unsubscribe stops them', ['nats'], async () => {
  const a = await broker();
  const b = await broker();
  const channels = ['plain', 'with.dots', 'odd name *>', 'a..b', 'ünïcode:ns#1,2'];
  await Promise.all(channels.map((c) => a.broker.subscribe(c)));
  const info: ClientInfo = { user: 'u', client: 'c', connInfo: '{"x": 1}' };
  for (const c of channels) {
    const res = await b.broker.publish(c, `{"c": ${JSON.stringify(c)}}`, { ...OPTS, info, tags: { t: '1' }, useDelta: true });
    assert.deepEqual(res, { position: { offset: 0, epoch: '' }, suppressed: false });
  }
  await until(() => a.events.pubs.length === channels.length);
  assert.deepEqual(
    a.events.pubs.map((p) => p.channel),
    channels,
  );
  const first = a.events.pubs[0]!;
  assert.equal(first.pub.data, '{"c": "plain"}');
  assert.deepEqual(first.pub.info, info);
  assert.deepEqual(first.pub.tags, { t: '1' });
  assert.equal(first.useDelta, true);
  assert.equal(first.pub.offset, 0);
  await b.broker.publishJoin('plain', info);
  await b.broker.publishLeave('plain', info);
  await until(() => a.events.joinLeave.length === 2);
  assert.deepEqual(a.events.joinLeave, [
    ['plain', 'join', info],
    ['plain', 'leave', info],
  ]);
  await a.broker.unsubscribe('plain');
  await b.broker.publish('plain', '"late"', OPTS);
  await b.broker.publish('with.dots', '"marker"', OPTS);
  await until(() => a.events.pubs.length === channels.length + 1);
  assert.equal(a.events.pubs.at(-1)!.channel, 'with.dots');
});

serviceTest('nats broker: no history (108), as Centrifugo', ['nats'], async () => {
  const { broker: b } = await broker();
  await assert.rejects(b.history(), (e: unknown) => e instanceof ProtocolException && e.error.code === 108);
  await assert.rejects(b.removeHistory(), (e: unknown) => e instanceof ProtocolException && e.error.code === 108);
});

serviceTest('nats control bus: messages to all nodes and to one node', ['nats'], async () => {
  const conns = [new NatsConn(natsConfig(), log), new NatsConn(natsConfig(), log)];
  const buses = conns.map((c) => new NatsControlBus(c, log));
  cleanup.push(...buses.map((b) => () => b.close()));
  const got: string[][] = [[], []];
  await buses[0]!.run('n1', (m) => got[0]!.push(m));
  await buses[1]!.run('n2', (m) => got[1]!.push(m));
  await buses[0]!.publish('hello all');
  await buses[1]!.publishTo('n1', 'just n1');
  await until(() => got[0]!.length === 2 && got[1]!.length === 1);
  assert.deepEqual(got[0]!.sort(), ['hello all', 'just n1']);
  assert.deepEqual(got[1], ['hello all']);
});

serviceTest('nats broker: NATS down: publish fails; back: subscriptions are restored and subscribers told', ['nats-server'], async () => {
  const server = await OwnNats.start();
  cleanup.push(() => server.down());
  const a = await broker(server.url);
  const b = await broker(server.url);
  await a.broker.subscribe('ch');
  await b.broker.publish('ch', '1', OPTS);
  await until(() => a.events.pubs.length === 1);
  await server.down();
  await until(async () => {
    try {
      await b.broker.publish('ch', '2', OPTS);
      return false;
    } catch (e) {
      return e instanceof Error && /not connected/.test(e.message);
    }
  }, 20);
  await server.up();
  await until(() => a.events.lost.length > 0, 50);
  assert.deepEqual(a.events.lost[0], ['ch']);
  // The library resubscribed: publications flow again.
  await until(async () => {
    try {
      await b.broker.publish('ch', '3', OPTS);
      return a.events.pubs.some((p) => p.pub.data === '3');
    } catch {
      return false;
    }
  }, 50);
});
