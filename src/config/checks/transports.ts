/** Cross-key rules of the HTTP transports (emulation, unidirectional) and of the connect-code mappings they use. */
import type { GyreConfig } from '../types.js';
import type { CheckReport } from './report.js';

/**
 * Enabled endpoint paths start with "/" and differ from each other and from the WebSocket path;
 * every transform names a code and what it maps to (as Centrifugo validates them).
 */
export function checkTransports(config: GyreConfig, report: CheckReport): void {
  const taken = new Map<string, string>();
  if (!config.websocket.disabled) taken.set(config.websocket.handler_prefix, 'websocket.handler_prefix');
  const emulated = config.http_stream.enabled || config.sse.enabled;
  const paths: Array<[key: string, enabled: boolean, path: string]> = [
    ...(['http_stream', 'sse', 'uni_websocket', 'uni_http_stream', 'uni_sse'] as const).map(
      (name): [string, boolean, string] => [`${name}.handler_prefix`, config[name].enabled, config[name].handler_prefix],
    ),
    // Served when http_stream or sse is.
    ['emulation.handler_prefix', emulated, config.emulation.handler_prefix],
  ];
  for (const [key, enabled, path] of paths) {
    if (!enabled) continue;
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

/**
 * `uni_grpc`, when enabled: TLS needs both files, and its port differs from the other listeners'
 * on the same address (0, "any free port", is never taken).
 */
export function checkUniGrpc(config: GyreConfig, report: CheckReport): void {
  const uni = config.uni_grpc;
  if (!uni.enabled) return;
  if (uni.tls.enabled && (uni.tls.cert_pem_file === '' || uni.tls.key_pem_file === '')) {
    report.problem('uni_grpc.tls', 'TLS is enabled but cert_pem_file and key_pem_file are not both set');
  }
  if (uni.port === 0) return;
  const others: Array<[string, boolean, string, number]> = [
    ['http_server.port', true, config.http_server.address, config.http_server.port],
    ['http_server.internal_port', true, config.http_server.address, config.http_server.internal_port],
    ['grpc_api.port', config.grpc_api.enabled, config.grpc_api.address, config.grpc_api.port],
  ];
  for (const [key, used, address, port] of others) {
    const sameAddress = address === '' || uni.address === '' || address === uni.address;
    if (used && port === uni.port && sameAddress) report.problem('uni_grpc.port', `must differ from ${key} (${port})`);
  }
}
