/** Cross-key rules of the `events` section (its listeners are read key by key, config/walk.ts). */
import { EVENTS_HOOK_NAMES } from '../definition/server.js';
import type { GyreConfig } from '../types.js';
import type { CheckReport } from './report.js';

const HOOKS: ReadonlySet<string> = new Set(EVENTS_HOOK_NAMES);

/** The endpoint path starts with `/` and, on the main port, differs from the WebSocket one. */
export function checkEvents(config: GyreConfig, report: CheckReport): void {
  const events = config.events;
  if (!events.handler_prefix.startsWith('/')) {
    report.problem('events.handler_prefix', `must start with "/", got ${JSON.stringify(events.handler_prefix)}`);
  }
  if (events.enabled && events.port === 0 && !config.websocket.disabled && events.handler_prefix === config.websocket.handler_prefix) {
    report.problem('events.handler_prefix', `must differ from websocket.handler_prefix (${JSON.stringify(events.handler_prefix)}) on the same port`);
  }
  events.hooks.forEach((h, i) => {
    if (!HOOKS.has(h.event)) report.problem(`events.hooks[${i}]`, `unknown hook "${h.event}" (one of ${[...HOOKS].join(', ')})`);
  });
}
