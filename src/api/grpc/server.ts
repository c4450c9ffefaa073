/**
 * The gRPC server API: `centrifugal.centrifugo.api.CentrifugoApi` on `grpc_api.address:port`, every
 * method run by the same {@link CommandExecutor} as the HTTP API. Each response is
 * `{error, result}` (Batch: `{replies}`, each reply with its own error); with `grpc_api.key` set, calls need metadata `authorization: apikey KEY`
 * (else status UNAUTHENTICATED).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { GrpcApiConfig } from '../../config/types.js';
import type { GyreNode } from '../../node/node.js';
import { errorOf, type CommandExecutor } from '../executor.js';
import { API_METHODS, requestToParams, resultToProto, type GrpcMethod, type Message } from './convert.js';
import { loadApiService, shutdownGrpcServer } from './protos.js';

/** A batch that could not run (its response has no error field): a gRPC status instead. */
class BatchFailed extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

export class GrpcApiServer {
  private constructor(
    private readonly server: grpc.Server,
    /** The bound port. */
    readonly port: number,
  ) {}

  /** Serves the API of `node` through `executor`; resolves once listening. */
  static async start(node: GyreNode, executor: CommandExecutor, config: GrpcApiConfig, log: Logger): Promise<GrpcApiServer> {
    const { grpc: g, service } = await loadApiService();
    const keyDigest = config.key !== '' ? digest(config.key) : undefined;
    const authorized = (md: grpc.Metadata): boolean => {
      if (keyDigest === undefined) return true;
      for (const v of md.get('authorization')) {
        const m = typeof v === 'string' ? /^apikey\s+(.+)$/i.exec(v.trim()) : null;
        if (m !== null && timingSafeEqual(digest(m[1]!), keyDigest)) return true;
      }
      return false;
    };
    const impl: grpc.UntypedServiceImplementation = {};
    for (const [grpcMethod, method] of Object.entries(API_METHODS) as Array<[GrpcMethod, (typeof API_METHODS)[GrpcMethod]]>) {
      impl[grpcMethod] = (call: grpc.ServerUnaryCall<Message, Message>, callback: grpc.sendUnaryData<Message>) => {
        if (!authorized(call.metadata)) {
          log.info({ method }, 'gRPC API: unauthorized request');
          callback({ code: g.status.UNAUTHENTICATED, details: 'unauthorized' });
          return;
        }
        const run = async (): Promise<Message> => {
          try {
            const result = await executor.execute(method, requestToParams(method, call.request));
            // BatchResponse is the result itself (its replies carry their own errors).
            return method === 'batch' ? resultToProto(method, result) : { result: resultToProto(method, result) };
          } catch (e) {
            const error = errorOf(e, node);
            log.debug({ method, code: error.code }, 'gRPC API error');
            // BatchResponse has no error field: a batch that cannot run at all fails the call.
            if (method === 'batch') throw new BatchFailed(error.code === 107 ? g.status.INVALID_ARGUMENT : g.status.INTERNAL, error.message);
            return { error };
          }
        };
        run().then(
          (res) => callback(null, res),
          (e: unknown) => {
            if (e instanceof BatchFailed) return callback({ code: e.code, details: e.message });
            log.error({ err: e, method }, 'gRPC API request failed');
            callback({ code: g.status.INTERNAL, details: 'internal error' });
          },
        );
      };
    }
    const options: grpc.ServerOptions = {};
    if (config.max_receive_message_size > 0) options['grpc.max_receive_message_length'] = config.max_receive_message_size;
    const server = new g.Server(options);
    server.addService(service, impl);
    const creds = config.tls.enabled
      ? g.ServerCredentials.createSsl(null, [{ cert_chain: readFileSync(config.tls.cert_pem_file), private_key: readFileSync(config.tls.key_pem_file) }])
      : g.ServerCredentials.createInsecure();
    const host = config.address === '' ? '0.0.0.0' : config.address;
    const address = host.includes(':') ? `[${host}]:${config.port}` : `${host}:${config.port}`;
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(address, creds, (err, bound) => (err !== null ? reject(err) : resolve(bound)));
    });
    if (keyDigest === undefined) log.warn({ port }, 'gRPC API has no key (grpc_api.key): anyone who reaches its port can use it');
    log.info({ port, address: host }, 'gRPC API listening');
    return new GrpcApiServer(server, port);
  }

  /** Stops: calls in flight may finish within `graceMs`, then the rest are cancelled. */
  close(graceMs = 1000): Promise<void> {
    return shutdownGrpcServer(this.server, graceMs);
  }
}
