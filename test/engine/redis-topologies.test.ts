/**
 * Redis setups beyond one server, each on private `redis-server` processes started here:
 * - sharding over two servers (a list of addresses): channels spread by consistent hashing, every
 *   channel's keys and PUB/SUB on its own shard, two nodes agreeing on the mapping;
 * - Sentinel (a master and one Sentinel), by `redis+sentinel://` address and by `sentinel_address`;
 * - Redis Cluster (three masters), by `cluster_address` and by `redis+cluster://` address: keys of a
 *   channel share a slot (hash tags), so the Lua scripts run, PUB/SUB and presence work.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after } from 'node:test';
import { pino } from 'pino';
import { defaultRedis } from '../../src/config/defaults.js';
import type { RedisConfig } from '../../src/config/types.js';
import { RedisBroker } from '../../src/engine/redis/broker.js';
import { RedisPresenceManager } from '../../src/engine/redis/presence.js';
import { RedisShards, shardIndex } from '../../src/engine/redis/shards.js';
import type { BrokerEventHandler, PublishOptions } from '../../src/engine/types.js';
import type { Publication } from '../../src/protocol/types.js';
import { until } from '../helpers/gyre.js';
import { OwnRedis, serviceTest } from '../helpers/services.js';

const log = pino({ level: 'silent' });
const KEEP: PublishOptions = { history: { size: 10, ttl: 60_000, metaTtl: 3_600_000 } };

const cleanup: Array<() => Promise<void>> = [];
after(async () => {
  for (const f of cleanup.reverse()) await f().catch(() => {});
});

function cfg(over: Partial<RedisConfig>): RedisConfig {
  return { ...defaultRedis(), prefix: 'topo', ...over };
}

class Events implements BrokerEventHandler {
  readonly pubs: Array<{ channel: string; pub: Publication }> = [];
  onPublication(channel: string, pub: Publication): void {
    this.pubs.push({ channel, pub });
  }
  onJoin(): void {}
  onLeave(): void {}
}

async function node(config: RedisConfig): Promise<{ broker: RedisBroker; presence: RedisPresenceManager; events: Events }> {
  const shards = new RedisShards(config, log);
  const broker = new RedisBroker(shards, log);
  const presence = new RedisPresenceManager(shards, log);
  const events = new Events();
  await broker.run(events);
  cleanup.push(async () => {
    await broker.close();
    await presence.close();
  });
  return { broker, presence, events };
}

/** Publishes through `b` into every channel (subscribed on `a`) and checks delivery, history, presence. */
async function exercise(a: Awaited<ReturnType<typeof node>>, b: Awaited<ReturnType<typeof node>>, channels: string[]): Promise<void> {
  await Promise.all(channels.map((c) => a.broker.subscribe(c)));
  for (const c of channels) {
    assert.equal((await b.broker.publish(c, JSON.stringify(c), KEEP)).position.offset, 1);
    assert.equal((await b.broker.publish(c, '2', KEEP)).position.offset, 2);
  }
  await until(() => a.events.pubs.length === channels.length * 2);
  for (const c of channels) {
    const h = await a.broker.history(c, { limit: -1, metaTtl: 3_600_000 });
    assert.deepEqual(
      h.publications.map((p) => p.data),
      [JSON.stringify(c), '2'],
    );
    await a.presence.addPresence(c, 'c1', { user: 'u', client: 'c1' });
    assert.deepEqual(await b.presence.presenceStats(c), { numClients: 1, numUsers: 1 });
  }
}

serviceTest('redis sharding: channels spread over two servers by consistent hashing', ['redis-server'], async () => {
  const r1 = await OwnRedis.start();
  const r2 = await OwnRedis.start();
  cleanup.push(() => r1.stop(), () => r2.stop());
  const config = cfg({ address: [r1.address, r2.url] });
  const a = await node(config);
  const b = await node(config);
  const channels = Array.from({ length: 20 }, (_, i) => `shard-${i}`);
  await exercise(a, b, channels);
  for (const c of channels) {
    const home = shardIndex(c, 2) === 0 ? r1 : r2;
    const other = home === r1 ? r2 : r1;
    assert.equal(await home.command('EXISTS', `topo.stream.${c}`), 1, `${c} on its shard`);
    assert.equal(await other.command('EXISTS', `topo.stream.${c}`), 0, `${c} not on the other shard`);
  }
  const sizes = [Number(await r1.command('DBSIZE')), Number(await r2.command('DBSIZE'))];
  assert.ok(sizes[0]! > 0 && sizes[1]! > 0, `both shards used: ${sizes.join(', ')}`);
});

serviceTest('redis sentinel: the master is found through Sentinel (address URL and sentinel_address)', ['redis-server'], async () => {
  const master = await OwnRedis.start();
  const sentinel = await OwnRedis.start({
    config: `sentinel monitor gyremaster 127.0.0.1 ${master.port} 1\n`,
    args: ['--sentinel'],
  });
  cleanup.push(() => sentinel.stop(), () => master.stop());
  const a = await node(cfg({ address: [`redis+sentinel://127.0.0.1:${sentinel.port}?sentinel_master_name=gyremaster`] }));
  const b = await node(cfg({ sentinel_address: [sentinel.address], sentinel_master_name: 'gyremaster' }));
  await exercise(a, b, ['s1', 's2']);
  assert.equal(await master.command('EXISTS', 'topo.stream.s1'), 1);
});

serviceTest('redis cluster: a three-master Redis Cluster (hash-tagged keys)', ['redis-server'], async () => {
  const masters = await Promise.all([0, 1, 2].map(() => OwnRedis.start({ args: ['--cluster-enabled', 'yes'] })));
  cleanup.push(...masters.map((m) => () => m.stop()));
  const created = spawnSync('redis-cli', ['--cluster', 'create', ...masters.map((m) => m.address), '--cluster-replicas', '0', '--cluster-yes']);
  assert.equal(created.status, 0, created.stderr.toString());
  for (const m of masters) {
    await until(async () => String(await m.command('CLUSTER', 'INFO')).includes('cluster_state:ok'), {
      stepMs: 50,
      timeoutMs: 30_000,
      what: `Redis Cluster node ${m.address} to report cluster_state:ok`,
    });
  }
  const a = await node(cfg({ cluster_address: [masters.map((m) => m.address).join(',')] }));
  const b = await node(cfg({ address: [`redis+cluster://${masters[1]!.address}?addr=${masters[2]!.address}`] }));
  const channels = Array.from({ length: 12 }, (_, i) => `cl-${i}`);
  channels.push('with{brace}s');
  await exercise(a, b, channels);
  // Keys landed on more than one master.
  const used = await Promise.all(masters.map(async (m) => Number(await m.command('DBSIZE'))));
  assert.ok(used.filter((n) => n > 0).length >= 2, `keys spread: ${used.join(', ')}`);
});
