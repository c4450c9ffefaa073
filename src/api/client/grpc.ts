/**
 * The server API client over gRPC (`centrifugal.centrifugo.api.CentrifugoApi`), against Gyre or
 * Centrifugo (`grpc_api`, default port 10000). The API key goes in metadata
 * `authorization: apikey <key>`. Each call has a deadline; by default a call is tried once (the
 * `grpc` broadcast driver retries itself), `retries` retries temporary failures with backoff.
 * gRPC is loaded on the first call, so constructing a client is cheap and synchronous.
 */
import { readFileSync } from 'node:fs';
import type * as grpc from '@grpc/grpc-js';
import { Errors } from '../../protocol/codes.js';
import { loadApiService } from '../../protocol/grpc-services.js';
import { API_METHODS, paramsToRequest, protoToResult, type GrpcMethod, type Message } from '../grpc/convert.js';
import type {
  ApiBatchCommand,
  ApiBatchReply,
  ApiBroadcastRequest,
  ApiBroadcastResult,
  ApiChannelRequest,
  ApiChannelsRequest,
  ApiChannelsResult,
  ApiClientInfo,
  ApiDisconnectRequest,
  ApiError,
  ApiHistoryRequest,
  ApiHistoryResult,
  ApiInfoResult,
  ApiMethod,
  ApiNodeInfo,
  ApiPresenceResult,
  ApiPresenceStatsResult,
  ApiPublishRequest,
  ApiPublishResult,
  ApiRefreshRequest,
  ApiRpcResult,
  ApiSubscribeRequest,
  ApiUnsubscribeRequest,
} from '../types.js';
import { DEFAULT_TIMEOUT_MS, toMillis, type Duration } from './duration.js';
import { isTemporaryCode, retryPolicy, withRetries, type RetryOptions, type RetryPolicy } from './retry.js';
import { ApiClientError, type ServerApiClient } from './types.js';

/** TLS towards the server: `true` = system roots, or files for a private CA / client certificate. */
export type GrpcClientTls =
  | boolean
  | {
      /** CA certificate (PEM file) to trust instead of the system roots. */
      caFile?: string;
      /** Client certificate and key (PEM files) for mutual TLS. */
      certFile?: string;
      keyFile?: string;
      /** Name expected in the server's certificate, when not the address's host. */
      serverName?: string;
    };

export interface GrpcApiClientOptions extends RetryOptions {
  /** `host:port` of the gRPC API (`grpc://host:port` is accepted too). */
  address: string;
  /** The server's `grpc_api.key`; empty or absent: no key. */
  apiKey?: string;
  /** Deadline of one attempt (ms or a duration string). Default 5 s. */
  timeout?: Duration;
  tls?: GrpcClientTls;
}

type Unary = (
  request: Message,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, response?: Message) => void,
) => grpc.ClientUnaryCall;

const GRPC_OF: Readonly<Record<ApiMethod, GrpcMethod>> = Object.fromEntries(
  Object.entries(API_METHODS).map(([grpcMethod, method]) => [method, grpcMethod]),
) as Record<ApiMethod, GrpcMethod>;

interface Connected {
  g: typeof import('@grpc/grpc-js');
  client: grpc.Client;
}

/** The server API of a Gyre or Centrifugo server, over gRPC. */
export class GrpcApiClient implements ServerApiClient {
  readonly address: string;
  private readonly apiKey: string;
  private readonly timeoutMs: number;
  private readonly policy: RetryPolicy;
  private readonly tls: GrpcClientTls;
  private connected: Promise<Connected> | undefined;
  private readonly closer = new AbortController();

  constructor(options: GrpcApiClientOptions) {
    if (typeof options?.address !== 'string' || options.address === '') throw new TypeError('address is required (host:port of the gRPC API)');
    this.address = options.address.replace(/^grpc:\/\//, '').replace(/\/+$/, '');
    if (!/^(\[[^\]]+\]|[^:/\s]+):\d+$/.test(this.address)) throw new TypeError(`address: expected host:port, got ${JSON.stringify(options.address)}`);
    this.apiKey = options.apiKey ?? '';
    this.timeoutMs = toMillis(options.timeout, DEFAULT_TIMEOUT_MS);
    this.policy = retryPolicy({ retries: 0, ...options });
    this.tls = options.tls ?? false;
  }

  private connect(): Promise<Connected> {
    this.connected ??= loadApiService().then(({ grpc: g, Client }) => {
      const options: grpc.ChannelOptions = {};
      let creds: grpc.ChannelCredentials;
      if (this.tls === false) creds = g.credentials.createInsecure();
      else {
        const t = this.tls === true ? {} : this.tls;
        const read = (f: string | undefined) => (f === undefined || f === '' ? null : readFileSync(f));
        creds = g.credentials.createSsl(read(t.caFile), read(t.keyFile), read(t.certFile));
        if (t.serverName !== undefined && t.serverName !== '') {
          options['grpc.ssl_target_name_override'] = t.serverName;
          options['grpc.default_authority'] = t.serverName;
        }
      }
      return { g, client: new Client(this.address, creds, options) };
    });
    this.connected.catch(() => (this.connected = undefined));
    return this.connected;
  }

  /**
   * Calls a server API method (the HTTP API's snake_case name, JSON-form params with `data` as any
   * JSON value); resolves with its result in the same form.
   */
  call<T = Record<string, unknown>>(method: ApiMethod, params: object = {}): Promise<T> {
    return withRetries(this.policy, () => this.attempt<T>(method, params), this.closer.signal);
  }

  private async attempt<T>(method: ApiMethod, params: object): Promise<T> {
    if (this.closer.signal.aborted) throw new ApiClientError(Errors.internal.code, 'client closed', false, method);
    const { g, client } = await this.connect().catch((e: unknown) => {
      throw new ApiClientError(Errors.internal.code, `cannot load gRPC: ${(e as Error).message}`, false, method, { cause: e });
    });
    const md = new g.Metadata();
    if (this.apiKey !== '') md.set('authorization', `apikey ${this.apiKey}`);
    const fn = (client as unknown as Record<string, Unary>)[GRPC_OF[method]]!.bind(client);
    const response = await new Promise<Message>((resolve, reject) => {
      const call = fn(paramsToRequest(method, params as Message), md, { deadline: Date.now() + this.timeoutMs }, (err, res) => {
        this.closer.signal.removeEventListener('abort', cancel);
        if (err === null) return resolve(res ?? {});
        reject(this.transportError(g, method, err));
      });
      const cancel = (): void => call.cancel();
      this.closer.signal.addEventListener('abort', cancel, { once: true });
    });
    const error = response['error'] as { code?: number; message?: string } | undefined;
    if (error !== undefined && error !== null) {
      const code = error.code ?? Errors.internal.code;
      throw new ApiClientError(code, error.message ?? 'error', isTemporaryCode(code), method);
    }
    try {
      // BatchResponse is the result itself; the others wrap it as `result`.
      return protoToResult(method, (method === 'batch' ? response : (response['result'] ?? {})) as Message) as T;
    } catch (e) {
      throw new ApiClientError(Errors.internal.code, 'unexpected response (a payload is not JSON)', false, method, { cause: e });
    }
  }

  private transportError(g: typeof import('@grpc/grpc-js'), method: string, err: grpc.ServiceError): ApiClientError {
    const s = g.status;
    if (this.closer.signal.aborted) return new ApiClientError(Errors.internal.code, 'client closed', false, method, { cause: err });
    switch (err.code) {
      case s.UNAUTHENTICATED:
      case s.PERMISSION_DENIED:
        return new ApiClientError(Errors.unauthorized.code, `unauthorized (${err.details})`, false, method, { cause: err });
      case s.UNIMPLEMENTED:
        return new ApiClientError(Errors.methodNotFound.code, `method not implemented by the server`, false, method, { cause: err });
      case s.INVALID_ARGUMENT:
      case s.RESOURCE_EXHAUSTED:
        return new ApiClientError(Errors.badRequest.code, err.details, false, method, { cause: err });
      case s.DEADLINE_EXCEEDED:
        return new ApiClientError(Errors.internal.code, `no answer within ${this.timeoutMs} ms`, true, method, { cause: err });
      default:
        return new ApiClientError(Errors.internal.code, `request failed: ${s[err.code] ?? err.code}: ${err.details}`, true, method, { cause: err });
    }
  }

  publish(req: ApiPublishRequest): Promise<ApiPublishResult> {
    return this.call('publish', req);
  }

  async broadcast(req: ApiBroadcastRequest): Promise<ApiBroadcastResult> {
    const r = await this.call<{ responses?: Array<{ result?: ApiPublishResult | null; error?: Partial<ApiError> | null }> }>('broadcast', req);
    return { responses: (r.responses ?? []).map((x) => (x.error !== undefined && x.error !== null ? { error: apiError(x.error) } : { result: x.result ?? {} })) };
  }

  async subscribe(req: ApiSubscribeRequest): Promise<void> {
    await this.call('subscribe', req);
  }

  async unsubscribe(req: ApiUnsubscribeRequest): Promise<void> {
    await this.call('unsubscribe', req);
  }

  async disconnect(req: ApiDisconnectRequest): Promise<void> {
    await this.call('disconnect', req);
  }

  async refresh(req: ApiRefreshRequest): Promise<void> {
    await this.call('refresh', req);
  }

  async presence(req: ApiChannelRequest): Promise<ApiPresenceResult> {
    const r = await this.call<{ presence?: Record<string, Partial<ApiClientInfo>> }>('presence', req);
    const presence: Record<string, ApiClientInfo> = {};
    for (const [id, info] of Object.entries(r.presence ?? {})) presence[id] = { ...info, client: info.client ?? '', user: info.user ?? '' };
    return { presence };
  }

  async presenceStats(req: ApiChannelRequest): Promise<ApiPresenceStatsResult> {
    const r = await this.call<{ num_clients?: number; num_users?: number }>('presence_stats', req);
    return { num_clients: r.num_clients ?? 0, num_users: r.num_users ?? 0 };
  }

  async history(req: ApiHistoryRequest): Promise<ApiHistoryResult> {
    const r = await this.call<Partial<ApiHistoryResult>>('history', req);
    return {
      publications: (r.publications ?? []).map((p) =>
        p.info === undefined ? p : { ...p, info: { ...p.info, client: p.info.client ?? '', user: p.info.user ?? '' } },
      ),
      offset: r.offset ?? 0,
      epoch: r.epoch ?? '',
    };
  }

  async historyRemove(req: ApiChannelRequest): Promise<void> {
    await this.call('history_remove', req);
  }

  async channels(req: ApiChannelsRequest = {}): Promise<ApiChannelsResult> {
    const r = await this.call<{ channels?: Record<string, { num_clients?: number }> }>('channels', req);
    const channels: Record<string, { num_clients: number }> = {};
    for (const [name, c] of Object.entries(r.channels ?? {})) channels[name] = { num_clients: c.num_clients ?? 0 };
    return { channels };
  }

  async info(): Promise<ApiInfoResult> {
    const r = await this.call<{ nodes?: Array<Partial<ApiNodeInfo>> }>('info', {});
    return {
      nodes: (r.nodes ?? []).map((n) => ({
        uid: n.uid ?? '',
        name: n.name ?? '',
        version: n.version ?? '',
        num_clients: n.num_clients ?? 0,
        num_users: n.num_users ?? 0,
        num_channels: n.num_channels ?? 0,
        num_subs: n.num_subs ?? 0,
        uptime: n.uptime ?? 0,
      })),
    };
  }

  /** Calls an RPC method of the server API; resolves with its data. */
  async rpc(method: string, params?: unknown): Promise<ApiRpcResult> {
    return this.call('rpc', { method, ...(params !== undefined && { params }) });
  }

  /** Several commands in one call; each reply is `{<method>: result}` or `{error}`, in order. */
  async batch(commands: ApiBatchCommand[], parallel = false): Promise<{ replies: ApiBatchReply[] }> {
    const r = await this.call<{ replies?: ApiBatchReply[] }>('batch', { commands, parallel });
    return { replies: r.replies ?? [] };
  }

  /** Cancels calls in flight (they fail with a permanent "client closed" error), refuses new ones, closes the channel. */
  async close(): Promise<void> {
    this.closer.abort(new Error('client closed'));
    const c = await this.connected?.catch(() => undefined);
    c?.client.close();
  }
}

function apiError(e: Partial<ApiError>): ApiError {
  return { code: e.code ?? Errors.internal.code, message: e.message ?? '' };
}
