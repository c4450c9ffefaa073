/**
 * The gRPC server API: `centrifugal.centrifugo.api.CentrifugoApi` on `grpc_api.address:port`, every
 * method run by the same {@link ServerApi} as the HTTP API (messages turned into the JSON form,
 * then decoded like an HTTP body). Each response is `{error, result}` (Batch: `{replies}`, each
 * reply with its own error); with `grpc_api.key` set, calls need metadata
 * `authorization: apikey KEY` (else status UNAUTHENTICATED).
 */
import { readFileSync } from 'node:fs';
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { GrpcApiConfig } from '../../config/types.js';
import { Errors } from '../../protocol/codes.js';
import { loadApiService, shutdownGrpcServer } from '../../protocol/grpc-services.js';
import { ApiKey, keyOfAuthorization } from '../api-key.js';
import { JsonApi } from '../json-api.js';
import type { ServerApi } from '../server-api.js';
import { API_METHODS, requestToParams, resultToProto, type GrpcMethod, type Message } from './convert.js';

/** A batch that could not run (its response has no error field): a gRPC status instead. */
class BatchFailed extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export class GrpcApiServer {
  private constructor(
    private readonly server: grpc.Server,
    /** The bound port. */
    readonly port: number,
  ) {}

  /** Serves the server API `api`; resolves once listening. (`_node` is unused: `server.ts` still passes it.) */
  static async start(api: ServerApi, config: GrpcApiConfig, log: Logger): Promise<GrpcApiServer> {
    const { grpc: g, service } = await loadApiService();
    const json = new JsonApi(api, 'grpc');
    const key = new ApiKey(config.key);
    // Without a key the API is open; with one, some `authorization: apikey <key>` must match.
    const authorized = (md: grpc.Metadata): boolean => !key.configured || md.get('authorization').some((v) => key.matches(keyOfAuthorization(v)));
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
            const result = await json.execute(method, requestToParams(method, call.request));
            // BatchResponse is the result itself (its replies carry their own errors).
            return method === 'batch' ? resultToProto(method, result) : { result: resultToProto(method, result) };
          } catch (e) {
            const error = api.errorOf(e);
            log.debug({ method, code: error.code }, 'gRPC API error');
            // BatchResponse has no error field: a batch that cannot run at all fails the call.
            if (method === 'batch') throw new BatchFailed(error.code === Errors.badRequest.code ? g.status.INVALID_ARGUMENT : g.status.INTERNAL, error.message);
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
    if (!key.configured) log.warn({ port }, 'gRPC API has no key (grpc_api.key): anyone who reaches its port can use it');
    log.info({ port, address: host }, 'gRPC API listening');
    return new GrpcApiServer(server, port);
  }

  /** Stops: calls in flight may finish within `graceMs`, then the rest are cancelled. */
  close(graceMs = 1000): Promise<void> {
    return shutdownGrpcServer(this.server, graceMs);
  }
}
