/** Cross-key rules of `engine`, `broker` and `presence_manager`. */
import type { GyreConfig, RedisConfig } from '../types.js';
import type { CheckReport } from './report.js';

/**
 * A separate broker / presence manager needs a type, Redis needs an address (and a master name
 * with Sentinel). Warns about what Gyre ignores (`history_use_lists`) and about history with a
 * NATS broker, which keeps none (error 108).
 */
export function checkEngine(config: GyreConfig, report: CheckReport): void {
  const redisSections: Array<[string, RedisConfig, boolean]> = [
    ['engine.redis', config.engine.redis, config.engine.type === 'redis'],
    ['broker.redis', config.broker.redis, config.broker.enabled && config.broker.type === 'redis'],
    ['presence_manager.redis', config.presence_manager.redis, config.presence_manager.enabled && config.presence_manager.type === 'redis'],
  ];
  for (const key of ['broker', 'presence_manager'] as const) {
    if (config[key].enabled && config[key].type === '') report.problem(`${key}.type`, `must be set when ${key}.enabled is true`);
  }
  for (const [at, redis, used] of redisSections) {
    if (!used) continue;
    if (redis.address.length === 0 && redis.cluster_address.length === 0 && redis.sentinel_address.length === 0) {
      report.problem(`${at}.address`, 'needs at least one Redis address');
    }
    if (redis.sentinel_address.length > 0 && redis.sentinel_master_name === '') {
      report.problem(`${at}.sentinel_master_name`, 'is required with sentinel_address');
    }
    if (redis.presence_ttl > 0 && redis.presence_ttl < 1000) report.problem(`${at}.presence_ttl`, 'must be at least 1s');
    if (redis.history_use_lists) {
      report.warn(`key "${at}.history_use_lists" is not supported: Gyre always keeps history in Redis Streams; it is ignored`);
    }
  }
  if (config.broker.enabled && config.broker.type === 'nats') {
    const channel = config.channel;
    const withHistory = [
      ...(channel.without_namespace.history_size > 0 ? ['channel.without_namespace'] : []),
      ...channel.namespaces.filter((ns) => ns.history_size > 0).map((ns) => `namespace "${ns.name}"`),
    ];
    if (withHistory.length > 0) {
      report.warn(`the NATS broker keeps no history: history, positioning and recovery are not available (error 108) in ${withHistory.join(', ')}`);
    }
  }
}
