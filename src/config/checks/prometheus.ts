/** Cross-key rules of the `prometheus` section. */
import type { GyreConfig } from '../types.js';
import type { CheckReport } from './report.js';

/**
 * The metrics path starts with "/" and, when enabled, is none of the paths served beside it (the
 * server API, the health endpoint, the WebSocket endpoint), which it would hide.
 */
export function checkPrometheus(config: GyreConfig, report: CheckReport): void {
  const path = config.prometheus.handler_prefix;
  if (!path.startsWith('/')) {
    report.problem('prometheus.handler_prefix', `must start with "/", got ${JSON.stringify(path)}`);
    return;
  }
  if (!config.prometheus.enabled) return;
  const others: Array<[key: string, enabled: boolean, path: string]> = [
    ['http_api.handler_prefix', !config.http_api.disabled, config.http_api.handler_prefix],
    ['health.handler_prefix', config.health.enabled, config.health.handler_prefix],
    ['websocket.handler_prefix', !config.websocket.disabled, config.websocket.handler_prefix],
  ];
  for (const [key, enabled, other] of others) {
    if (enabled && other === path) report.problem('prometheus.handler_prefix', `must differ from ${key} (${JSON.stringify(path)})`);
  }
}
