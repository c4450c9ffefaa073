/**
 * Application handlers as a gRPC proxy backend: a `centrifugal.centrifugo.proxy.CentrifugoProxy`
 * server, the service a Centrifugo (or a Gyre) calls with `grpc://host:port` proxy endpoints.
 */
import { readFileSync } from 'node:fs';
import type * as grpc from '@grpc/grpc-js';
import { loadProxyService, shutdownGrpcServer } from '../../protocol/grpc-services.js';
import { Handlers } from '../../handlers/pipeline.js';
import type { RequestType } from '../../handlers/requests.js';
import { fromProto, GRPC_METHODS, toProto, type JsonMessage } from '../codec.js';
import { ProxyBackend, type BackendHeaders, type ProxyBackendOptions } from './core.js';

export interface GrpcProxyBackendOptions extends ProxyBackendOptions {
  /**
   * Required per-call credentials: calls without metadata `key: value` are refused
   * (UNAUTHENTICATED). The caller's `grpc.credentials_key` / `credentials_value`.
   */
  credentials?: { key: string; value: string };
  /** Serve TLS with this certificate and key (PEM files). */
  tls?: { cert_pem_file: string; key_pem_file: string };
}

/** Metadata of the call itself, not of the client connection it describes. */
function isTransportKey(key: string, value: string): boolean {
  return key.startsWith(':') || key.startsWith('grpc-') || key === 'content-type' || key === 'te' || (key === 'user-agent' && value.startsWith('grpc-'));
}

function headersOf(md: grpc.Metadata): BackendHeaders {
  const out: Record<string, string | string[]> = {};
  for (const key of Object.keys(md.getMap())) {
    const values = md.get(key).filter((v): v is string => typeof v === 'string' && !isTransportKey(key, v));
    if (values.length === 1) out[key] = values[0]!;
    else if (values.length > 1) out[key] = values;
  }
  return out;
}

export class GrpcProxyBackend {
  private port = 0;

  private constructor(
    private readonly g: typeof import('@grpc/grpc-js'),
    readonly server: grpc.Server,
    private readonly options: GrpcProxyBackendOptions,
  ) {}

  /** A server for `handlers` (the application's handlers, or a {@link ProxyBackend} built from them); call {@link listen}. */
  static async create(handlers: Handlers | ProxyBackend, options: GrpcProxyBackendOptions = {}): Promise<GrpcProxyBackend> {
    const { grpc: g, service } = await loadProxyService();
    const backend = handlers instanceof Handlers ? new ProxyBackend(handlers, options) : handlers;
    const server = new g.Server();
    const impl: grpc.UntypedServiceImplementation = {};
    for (const [event, method] of Object.entries(GRPC_METHODS) as Array<[RequestType, string]>) {
      impl[method] = (call: grpc.ServerUnaryCall<JsonMessage, JsonMessage>, callback: grpc.sendUnaryData<JsonMessage>) => {
        const creds = options.credentials;
        if (creds !== undefined && !call.metadata.get(creds.key.toLowerCase()).includes(creds.value)) {
          callback({ code: g.status.UNAUTHENTICATED, details: 'missing or wrong credentials' });
          return;
        }
        if (!backend.handles(event)) {
          backend.log.warn({ type: event }, 'proxy backend: no service handles this request type (answering UNIMPLEMENTED)');
          callback({ code: g.status.UNIMPLEMENTED, details: `no service handles ${event}` });
          return;
        }
        backend.handle(event, fromProto(call.request), headersOf(call.metadata)).then(
          (res) => callback(null, toProto(res as JsonMessage)),
          (e: unknown) => {
            backend.log.error({ err: e, type: event }, 'proxy backend: request failed');
            callback({ code: g.status.INTERNAL, details: 'internal error' });
          },
        );
      };
    }
    server.addService(service, impl);
    return new GrpcProxyBackend(g, server, options);
  }

  /** Listens (port 0: any free port); resolves with the bound port. */
  listen(port = 0, host = '127.0.0.1'): Promise<number> {
    const tls = this.options.tls;
    const creds =
      tls !== undefined
        ? this.g.ServerCredentials.createSsl(null, [{ cert_chain: readFileSync(tls.cert_pem_file), private_key: readFileSync(tls.key_pem_file) }])
        : this.g.ServerCredentials.createInsecure();
    const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    return new Promise((resolve, reject) => {
      this.server.bindAsync(address, creds, (err, bound) => {
        if (err !== null) reject(err);
        else resolve((this.port = bound));
      });
    });
  }

  /** The bound port (0 before {@link listen}). */
  get boundPort(): number {
    return this.port;
  }

  /** Stops: in-flight calls may finish within `graceMs`, then the rest are cancelled. */
  close(graceMs = 1000): Promise<void> {
    return shutdownGrpcServer(this.server, graceMs);
  }
}
