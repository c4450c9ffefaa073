/** Cross-key rules of the unidirectional transports and of the connect-code mappings they use. */
import type { GyreConfig } from '../types.js';
import type { CheckReport } from './report.js';

/**
 * Enabled endpoint paths start with "/" and differ from each other and from the WebSocket path;
 * every transform names a code and what it maps to (as Centrifugo validates them).
 */
export function checkTransports(config: GyreConfig, report: CheckReport): void {
  const taken = new Map<string, string>();
  if (!config.websocket.disabled) taken.set(config.websocket.handler_prefix, 'websocket.handler_prefix');
  for (const name of ['uni_websocket', 'uni_http_stream', 'uni_sse'] as const) {
    const section = config[name];
    if (!section.enabled) continue;
    const key = `${name}.handler_prefix`;
    const path = section.handler_prefix;
    if (!path.startsWith('/')) report.problem(key, `must start with "/", got ${JSON.stringify(path)}`);
    const other = taken.get(path);
    if (other !== undefined) report.problem(key, `must differ from ${other} (${JSON.stringify(path)})`);
    else taken.set(path, key);
  }
  for (const name of ['uni_http_stream', 'uni_sse'] as const) {
    config[name].connect_code_to_http_response.transforms.forEach((t, i) => {
      const at = `${name}.connect_code_to_http_response.transforms[${i}]`;
      if (t.code === 0) report.problem(`${at}.code`, 'no code specified');
      if (t.to.status_code < 100 || t.to.status_code > 599) report.problem(`${at}.to.status_code`, `must be an HTTP status (100-599), got ${t.to.status_code}`);
    });
  }
  config.client.connect_code_to_unidirectional_disconnect.transforms.forEach((t, i) => {
    const at = `client.connect_code_to_unidirectional_disconnect.transforms[${i}]`;
    if (t.code === 0) report.problem(`${at}.code`, 'no code specified');
    if (t.to.code === 0) report.problem(`${at}.to.code`, 'no disconnect code specified');
    if ([...t.to.reason].some((ch) => ch.charCodeAt(0) > 0x7f)) report.problem(`${at}.to.reason`, 'disconnect reason must be ASCII');
  });
}
