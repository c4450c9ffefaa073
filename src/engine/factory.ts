/**
 * Builds a node's engine from configuration, as Centrifugo v6 lays it out: `engine` gives both a
 * broker and a presence manager (memory or Redis); `broker` (when enabled: memory, Redis or NATS)
 * and `presence_manager` (when enabled: memory or Redis) replace either part. Control messages
 * between nodes travel over the broker (Redis PUB/SUB or NATS); a memory broker is a single node.
 * Parts configured with the same Redis settings share connections.
 */
import type { Logger } from 'pino';
import { NoopControlBus } from './memory/control.js';
import type { GyreConfig, RedisConfig } from '../config/types.js';
import { MemoryBroker } from './memory/broker.js';
import { MemoryPresenceManager } from './memory/presence.js';
import { NatsBroker, NatsControlBus } from './nats/broker.js';
import { NatsConn } from './nats/connection.js';
import { RedisBroker } from './redis/broker.js';
import { RedisControlBus } from './redis/control.js';
import { RedisPresenceManager } from './redis/presence.js';
import { RedisShards } from './redis/shards.js';
import type { Broker, ControlBus, PresenceManager } from './types.js';

export interface Engine {
  broker: Broker;
  presence: PresenceManager;
  control: ControlBus;
  /** A one-line description for the startup log, e.g. "broker nats, presence redis". */
  description: string;
}

/**
 * Where the parts of the embedded (memory) engine live: in this process (the default), or in the
 * primary process of `gyre serve --workers`, reached over IPC.
 */
export interface EmbeddedEngine {
  broker(): Broker;
  presence(): PresenceManager;
  /** The control bus between nodes sharing the embedded engine (none for a single process). */
  control(): ControlBus;
  /** For logs: "memory", "memory (shared by workers)". */
  readonly name: string;
}

/** The embedded engine of a single process. */
export const inProcessEngine: EmbeddedEngine = {
  broker: () => new MemoryBroker(),
  presence: () => new MemoryPresenceManager(),
  control: () => new NoopControlBus(),
  name: 'memory',
};

export function createEngine(config: GyreConfig, log: Logger, embedded: EmbeddedEngine = inProcessEngine): Engine {
  const brokerType = config.broker.enabled ? config.broker.type : config.engine.type;
  const brokerRedis = config.broker.enabled ? config.broker.redis : config.engine.redis;
  const presenceType = config.presence_manager.enabled ? config.presence_manager.type : config.engine.type;
  const presenceRedis = config.presence_manager.enabled ? config.presence_manager.redis : config.engine.redis;

  const shardSets = new Map<string, RedisShards>();
  const shardsFor = (cfg: RedisConfig): RedisShards => {
    const key = JSON.stringify(cfg);
    let shards = shardSets.get(key);
    if (shards === undefined) {
      shards = new RedisShards(cfg, log.child({ component: 'redis' }));
      shardSets.set(key, shards);
    }
    return shards;
  };

  let broker: Broker;
  let control: ControlBus;
  switch (brokerType) {
    case 'redis': {
      const shards = shardsFor(brokerRedis);
      broker = new RedisBroker(shards, log.child({ component: 'redis-broker' }));
      control = new RedisControlBus(shards, log.child({ component: 'cluster' }));
      break;
    }
    case 'nats': {
      const conn = new NatsConn(config.broker.nats, log.child({ component: 'nats' }));
      broker = new NatsBroker(conn, log.child({ component: 'nats-broker' }));
      control = new NatsControlBus(conn, log.child({ component: 'cluster' }));
      break;
    }
    default:
      broker = embedded.broker();
      control = embedded.control();
  }
  const presence: PresenceManager =
    presenceType === 'redis'
      ? new RedisPresenceManager(shardsFor(presenceRedis), log.child({ component: 'redis-presence' }))
      : embedded.presence();
  const b = brokerType === '' || brokerType === 'memory' ? embedded.name : brokerType;
  const p = presenceType === '' || presenceType === 'memory' ? embedded.name : presenceType;
  return { broker, presence, control, description: b === p ? b : `broker ${b}, presence ${p}` };
}
