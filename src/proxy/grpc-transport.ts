/**
 * The gRPC proxy transport: a `centrifugal.centrifugo.proxy.CentrifugoProxy` client for one
 * `grpc://host:port` endpoint (with its TLS and compression settings), with a deadline per call and
 * the metadata of the calling proxy's settings (static, credentials, forwarded connection headers). Loaded only when a gRPC proxy is used.
 */
import { readFileSync } from 'node:fs';
import type * as grpc from '@grpc/grpc-js';
import { loadProxyService } from '../protocol/grpc-services.js';
import type { ProxyConfig } from '../config/types.js';
import { fromProto, GRPC_METHODS, toProto, type JsonMessage, type ProxyEvent, type ProxyResponseJson } from './codec.js';
import { asResponse, MAX_PROXY_RESPONSE_BYTES, ProxyCallError, type OutgoingHeaders, type ProxyTransport } from './transport.js';

type UnaryMethod = (
  request: JsonMessage,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, response?: JsonMessage) => void,
) => grpc.ClientUnaryCall;

export class GrpcProxyTransport implements ProxyTransport {
  private constructor(
    private readonly grpc: typeof import('@grpc/grpc-js'),
    private readonly client: grpc.Client,
  ) {}

  /** A client for the endpoint of `config` (`grpc://host:port`). */
  static async create(config: ProxyConfig): Promise<GrpcProxyTransport> {
    const { grpc: g, Client } = await loadProxyService();
    const address = config.endpoint.replace(/^grpc:\/\//, '').replace(/\/$/, '');
    const tls = config.grpc.tls;
    const options: grpc.ChannelOptions = { 'grpc.max_receive_message_length': MAX_PROXY_RESPONSE_BYTES };
    let creds: grpc.ChannelCredentials;
    if (tls.enabled) {
      const read = (f: string) => (f === '' ? null : readFileSync(f));
      creds = g.credentials.createSsl(
        read(tls.server_ca_pem_file),
        read(tls.key_pem_file),
        read(tls.cert_pem_file),
        tls.insecure_skip_verify ? { checkServerIdentity: () => undefined } : {},
      );
      if (tls.server_name !== '') {
        options['grpc.ssl_target_name_override'] = tls.server_name;
        options['grpc.default_authority'] = tls.server_name;
      }
    } else {
      creds = g.credentials.createInsecure();
    }
    if (config.grpc.compression) options['grpc.default_compression_algorithm'] = 2; // gzip
    return new GrpcProxyTransport(g, new Client(address, creds, options));
  }

  call(event: ProxyEvent, request: JsonMessage, forwarded: OutgoingHeaders, config: ProxyConfig, timeoutMs: number): Promise<ProxyResponseJson> {
    const md = new this.grpc.Metadata();
    const add = (key: string, value: string): void => {
      try {
        md.add(key.toLowerCase(), value);
      } catch {
        // not a valid metadata key (or a binary one): skipped
      }
    };
    for (const [k, v] of Object.entries(config.grpc.static_metadata)) add(k, v);
    const g = config.grpc;
    if (g.credentials_key !== '') add(g.credentials_key, g.credentials_value);
    const replaced = new Set<string>();
    for (const [k, v] of forwarded) {
      if (!replaced.has(k)) md.remove(k);
      replaced.add(k);
      add(k, v);
    }
    const method = (this.client as unknown as Record<string, UnaryMethod>)[GRPC_METHODS[event]]!.bind(this.client);
    return new Promise((resolve, reject) => {
      method(toProto(request), md, { deadline: Date.now() + timeoutMs }, (err, response) => {
        if (err !== null) {
          const status = this.grpc.status[err.code] ?? String(err.code);
          const reason = err.code === this.grpc.status.DEADLINE_EXCEEDED ? `no response within ${timeoutMs}ms` : `${status}: ${err.details}`;
          reject(new ProxyCallError(reason, { cause: err }));
          return;
        }
        try {
          resolve(asResponse(fromProto(response ?? {})));
        } catch (e) {
          reject(e);
        }
      });
    });
  }

  close(): void {
    this.client.close();
  }
}
