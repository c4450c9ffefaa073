/**
 * The server API executor: the one implementation of every server API method, with typed
 * requests and results (see `types.ts`). The HTTP API, the gRPC API, the in-process `gyre.api` and
 * the `local` broadcast driver are adapters over it; untyped params are decoded at those edges
 * (`decode.ts`), never here. A failure is a {@link ProtocolException} with the API's code.
 */
import { setImmediate as yieldTurn } from 'node:timers/promises';
import { Disconnects, Errors, ProtocolException, Unsubscribes } from '../protocol/codes.js';
import type { ClientInfo, Payload, Publication, RawJson, SubscriptionOverride } from '../protocol/types.js';
import type { Metrics } from '../metrics/metrics.js';
import type { GyreNode } from '../node/node.js';
import { b64ToPayload, toPayload, toRawJson } from '../node/raw-json.js';
import { decode, isBatchMethod } from './decode.js';
import { compileGlob, MAX_PATTERN_LENGTH } from './glob.js';
import type {
  ApiBatchCommand,
  ApiBatchReply,
  ApiBatchRequest,
  ApiBatchResult,
  ApiBoolValue,
  ApiBroadcastRequest,
  ApiBroadcastResult,
  ApiChannelRequest,
  ApiChannelsRequest,
  ApiChannelsResult,
  ApiClientInfo,
  ApiDisconnectRequest,
  ApiEmptyResult,
  ApiError,
  ApiHistoryRequest,
  ApiHistoryResult,
  ApiInfoResult,
  ApiMethod,
  ApiPresenceResult,
  ApiPresenceStatsResult,
  ApiPublication,
  ApiPublishRequest,
  ApiPublishResult,
  ApiRefreshRequest,
  ApiReply,
  ApiRequests,
  ApiResults,
  ApiRpcRequest,
  ApiRpcResult,
  ApiSubscribeRequest,
  ApiUnsubscribeRequest,
} from './types.js';

type Methods = { readonly [M in ApiMethod]: (req: ApiRequests[M]) => Promise<ApiResults[M]> };

/** The methods acting on connections: applied on this node, then sent to every other node. */
type ConnectionMethod = 'subscribe' | 'unsubscribe' | 'disconnect' | 'refresh';

function isConnectionMethod(method: string): method is ConnectionMethod {
  return method === 'subscribe' || method === 'unsubscribe' || method === 'disconnect' || method === 'refresh';
}

function badRequest(): never {
  throw new ProtocolException(Errors.badRequest);
}

/** A required channel name: a non-empty string, else 107. */
function channelOf(channel: unknown): string {
  if (typeof channel !== 'string' || channel === '') badRequest();
  return channel;
}

/** A payload given as a value or as base64 of its bytes (undefined when neither is). */
function payloadOf(value: unknown, b64: string | undefined): Payload | undefined {
  if (b64 !== undefined && b64 !== '') return b64ToPayload(b64);
  return value === undefined || value === null ? undefined : toPayload(value);
}

/** Info (JSON only) given as a value or as base64 of its JSON text (undefined when neither is). */
function infoOf(value: unknown, b64: string | undefined): RawJson | undefined {
  const p = payloadOf(value, b64);
  if (p !== undefined && typeof p !== 'string') badRequest();
  return p;
}

/** The node's server API. */
export class ServerApi {
  private readonly methods: Methods;

  constructor(private readonly node: GyreNode) {
    this.methods = {
      publish: (r) => this.publish(r),
      broadcast: (r) => this.broadcast(r),
      subscribe: (r) => this.subscribe(r),
      unsubscribe: (r) => this.unsubscribe(r),
      disconnect: (r) => this.disconnect(r),
      refresh: (r) => this.refresh(r),
      presence: (r) => this.presence(r),
      presence_stats: (r) => this.presenceStats(r),
      history: (r) => this.history(r),
      history_remove: (r) => this.historyRemove(r),
      channels: (r) => this.channels(r),
      info: () => this.info(),
      rpc: (r) => this.rpc(r),
      batch: (r) => this.batch(r),
    };
    // Commands and surveys from other nodes of the cluster: JSON from the network, decoded here.
    node.cluster.setHandler({
      applyApi: async (method, params) => {
        if (isConnectionMethod(method)) await this.applyHere(method, decode(method, params));
      },
      survey: async (op, params) => (op === 'channels' ? this.localChannels(decode('channels', params).pattern ?? '') : undefined),
    });
  }

  /** The node's metrics (the HTTP and gRPC edges time their commands there). */
  get metrics(): Metrics {
    return this.node.metrics;
  }

  /** Runs a method by its wire name; throws 104 for a name that is none. */
  execute<M extends ApiMethod>(method: M, req: ApiRequests[M]): Promise<ApiResults[M]> {
    if (!Object.hasOwn(this.methods, method)) return Promise.reject(new ProtocolException(Errors.methodNotFound));
    return (this.methods[method] as (r: ApiRequests[M]) => Promise<ApiResults[M]>)(req);
  }

  /** The reply error of a failure; anything but a {@link ProtocolException} is logged and becomes 100. */
  errorOf(e: unknown): ApiError {
    if (e instanceof ProtocolException) return { code: e.error.code, message: e.error.message };
    this.node.log.error({ err: e }, 'server API command failed');
    return { code: Errors.internal.code, message: Errors.internal.message };
  }

  /** Publishes a JSON value into a channel. */
  async publish(req: ApiPublishRequest): Promise<ApiPublishResult> {
    return this.publishOne(channelOf(req.channel), this.payload(req), req);
  }

  /** Publishes one JSON value into several channels; one reply per channel, in order. */
  async broadcast(req: ApiBroadcastRequest): Promise<ApiBroadcastResult> {
    const channels = req.channels ?? [];
    if (channels.length === 0) badRequest();
    this.checkBatchSize(channels.length, 'channels in a broadcast');
    const data = this.payload(req);
    const responses = await inChunks(channels, true, async (channel): Promise<ApiReply<ApiPublishResult>> => {
      try {
        return { result: await this.publishOne(channelOf(channel), data, req) };
      } catch (e) {
        return { error: this.errorOf(e) };
      }
    });
    return { responses };
  }

  /** Subscribes a user's connections (on every node) to a channel: a server-side subscription. */
  async subscribe(req: ApiSubscribeRequest): Promise<ApiEmptyResult> {
    return this.everywhere('subscribe', req);
  }

  /** Unsubscribes a user's connections (on every node) from a channel. */
  async unsubscribe(req: ApiUnsubscribeRequest): Promise<ApiEmptyResult> {
    return this.everywhere('unsubscribe', req);
  }

  /** Disconnects a user's connections on every node. */
  async disconnect(req: ApiDisconnectRequest): Promise<ApiEmptyResult> {
    return this.everywhere('disconnect', req);
  }

  /** Refreshes (or expires) a user's connections on every node. */
  async refresh(req: ApiRefreshRequest): Promise<ApiEmptyResult> {
    return this.everywhere('refresh', req);
  }

  /** Who is in a channel's presence; 108 when the channel keeps none. */
  async presence(req: ApiChannelRequest): Promise<ApiPresenceResult> {
    const channel = this.presenceChannel(req);
    const presence: Record<string, ApiClientInfo> = {};
    for (const [id, info] of await this.node.channelPresence(channel)) {
      presence[id] = clientInfoJson(info);
    }
    return { presence };
  }

  /** Client and user counts of a channel's presence; 108 when the channel keeps none. */
  async presenceStats(req: ApiChannelRequest): Promise<ApiPresenceStatsResult> {
    const s = await this.node.channelPresenceStats(this.presenceChannel(req));
    return { num_clients: s.numClients, num_users: s.numUsers };
  }

  /** A channel's history and stream position; 108 when the channel keeps none. */
  async history(req: ApiHistoryRequest): Promise<ApiHistoryResult> {
    const res = await this.node.history(channelOf(req.channel), {
      limit: req.limit,
      reverse: req.reverse === true,
      since: req.since && { offset: req.since.offset ?? 0, epoch: req.since.epoch ?? '' },
    });
    return { publications: res.publications.map(publicationJson), offset: res.position.offset, epoch: res.position.epoch };
  }

  /** Empties a channel's history (its stream position stays). */
  async historyRemove(req: ApiChannelRequest): Promise<ApiEmptyResult> {
    const channel = channelOf(req.channel);
    this.node.rules.resolve(channel);
    await this.node.removeHistory(channel);
    return {};
  }

  /** The channels with subscribers on any node, with their subscriber counts summed over nodes. */
  async channels(req: ApiChannelsRequest = {}): Promise<ApiChannelsResult> {
    const pattern = req.pattern ?? '';
    if (pattern.length > MAX_PATTERN_LENGTH) {
      throw new ProtocolException({ code: Errors.badRequest.code, message: `pattern longer than ${MAX_PATTERN_LENGTH} characters` });
    }
    const channels = this.localChannels(pattern);
    for (const reply of await this.node.cluster.survey('channels', { pattern })) {
      if (typeof reply !== 'object' || reply === null) continue;
      for (const [name, entry] of Object.entries(reply as Record<string, { num_clients?: unknown }>)) {
        const n = typeof entry?.num_clients === 'number' ? entry.num_clients : 0;
        channels[name] = { num_clients: (channels[name]?.num_clients ?? 0) + n };
      }
    }
    return { channels };
  }

  /** Every live node: this one, then those the registry has heard from. */
  async info(): Promise<ApiInfoResult> {
    return { nodes: this.node.cluster.nodeInfos() };
  }

  /** The server API's RPC: no RPC method is registered, so always 104. */
  async rpc(_req?: ApiRpcRequest): Promise<ApiRpcResult> {
    throw new ProtocolException(Errors.methodNotFound);
  }

  /** Several commands in one call; each reply is `{<method>: result}` or `{error}`, in command order. */
  async batch(req: ApiBatchRequest): Promise<ApiBatchResult> {
    if (!Array.isArray(req.commands)) badRequest();
    return this.runBatch(req.commands, req.parallel === true, (c) => this.command(c));
  }

  /**
   * Runs the commands of a batch through `run` (which answers each, errors included), one after
   * another or `parallel`; error 106 when there are more than `http_api.max_batch_size`. The event
   * loop serves everyone else between chunks of commands.
   */
  async runBatch<C>(commands: readonly C[], parallel: boolean, run: (command: C) => Promise<ApiBatchReply>): Promise<ApiBatchResult> {
    this.checkBatchSize(commands.length, 'commands in a batch');
    return { replies: await inChunks(commands, parallel, run) };
  }

  /** Runs one command of a batch; its error (104 when it names no method) is its reply. */
  async command(command: ApiBatchCommand): Promise<ApiBatchReply> {
    const method = Object.keys(command)
      .filter(isBatchMethod)
      .find((k) => command[k] !== undefined);
    if (method === undefined) return { error: { code: Errors.methodNotFound.code, message: Errors.methodNotFound.message } };
    try {
      return { [method]: await this.execute(method, command[method]!) };
    } catch (e) {
      return { error: this.errorOf(e) };
    }
  }

  /** A connection method applied here, then sent to every other node (which applies it to its own). */
  private async everywhere<M extends ConnectionMethod>(method: M, req: ApiRequests[M]): Promise<ApiEmptyResult> {
    await this.applyHere(method, req);
    await this.node.cluster.broadcastApi(method, { ...req });
    return {};
  }

  /** A connection method applied to this node's connections. */
  private async applyHere<M extends ConnectionMethod>(method: M, req: ApiRequests[M]): Promise<void> {
    switch (method) {
      case 'subscribe':
        return this.subscribeHere(req as ApiSubscribeRequest);
      case 'unsubscribe':
        return this.unsubscribeHere(req as ApiUnsubscribeRequest);
      case 'disconnect':
        return this.disconnectHere(req as ApiDisconnectRequest);
      default:
        return this.refreshHere(req as ApiRefreshRequest);
    }
  }

  private async subscribeHere(req: ApiSubscribeRequest): Promise<void> {
    const resolved = this.node.rules.resolve(channelOf(req.channel));
    const ov = req.override;
    const override: SubscriptionOverride | undefined = ov && {
      ...flag('presence', ov.presence),
      ...flag('join_leave', ov.join_leave),
      ...flag('force_push_join_leave', ov.force_push_join_leave),
      ...flag('force_recovery', ov.force_recovery),
      ...flag('force_positioning', ov.force_positioning),
    };
    const since = req.recover_since;
    const spec = {
      resolved,
      serverSide: true,
      recover: since && { offset: since.offset ?? 0, epoch: since.epoch ?? '' },
      chanInfo: infoOf(req.info, req.b64info),
      data: payloadOf(req.data, req.b64data),
      override,
      expireAt: req.expire_at ?? 0,
    };
    for (const c of this.node.clientsOf(req.user ?? '', req.client ?? '')) await c.serverSubscribe(spec);
  }

  private async unsubscribeHere(req: ApiUnsubscribeRequest): Promise<void> {
    const channel = channelOf(req.channel);
    for (const c of this.node.clientsOf(req.user ?? '', req.client ?? '')) await c.serverUnsubscribe(channel, Unsubscribes.server);
  }

  private async disconnectHere(req: ApiDisconnectRequest): Promise<void> {
    const d = req.disconnect;
    const disconnect = d !== undefined ? { code: d.code ?? 0, reason: d.reason ?? '' } : Disconnects.forceNoReconnect;
    if (!Number.isInteger(disconnect.code) || disconnect.code < 3000 || disconnect.code > 4999 || Buffer.byteLength(disconnect.reason) > 123) {
      badRequest();
    }
    const whitelist = new Set(req.whitelist ?? []);
    for (const c of this.node.clientsOf(req.user ?? '', req.client ?? '')) if (!whitelist.has(c.id)) c.close(disconnect);
  }

  private async refreshHere(req: ApiRefreshRequest): Promise<void> {
    const info = req.info;
    for (const c of this.node.clientsOf(req.user ?? '', req.client ?? '')) {
      if (req.expired === true) {
        c.close(Disconnects.expired);
        continue;
      }
      if (info !== undefined && info !== null) c.connInfo = toRawJson(info);
      c.applyExpiry(req.expire_at ?? 0);
    }
  }

  /** The payload of a publish or broadcast: 107 when it has none. */
  private payload(req: Omit<ApiPublishRequest, 'channel'>): Payload {
    return payloadOf(req.data, req.b64data) ?? badRequest();
  }

  private async publishOne(channel: string, data: Payload, req: Omit<ApiPublishRequest, 'channel'>): Promise<ApiPublishResult> {
    const res = await this.node.publish(channel, data, {
      skipHistory: req.skip_history === true,
      ...(req.tags !== undefined && { tags: req.tags }),
      ...(req.idempotency_key !== undefined && req.idempotency_key !== '' && { idempotencyKey: req.idempotency_key }),
      ...(req.delta !== undefined && { delta: req.delta }),
    });
    const out: ApiPublishResult = {};
    if (res.position.offset > 0) out.offset = res.position.offset;
    if (res.position.epoch !== '') out.epoch = res.position.epoch;
    return out;
  }

  /** The channel of a presence request: 108 when the channel keeps no presence. */
  private presenceChannel(req: ApiChannelRequest): string {
    const channel = channelOf(req.channel);
    if (!this.node.rules.resolve(channel).options.presence) throw new ProtocolException(Errors.notAvailable);
    return channel;
  }

  /** This node's channels matching a glob pattern ("" = all). */
  private localChannels(pattern: string): Record<string, { num_clients: number }> {
    const channels: Record<string, { num_clients: number }> = {};
    if (pattern.length > MAX_PATTERN_LENGTH) return channels;
    const matches = pattern === '' ? undefined : compileGlob(pattern);
    for (const name of this.node.hub.channelNames()) {
      if (matches === undefined || matches(name)) channels[name] = { num_clients: this.node.hub.subscriberCount(name) };
    }
    return channels;
  }

  /** Error 106 when a batch or broadcast is larger than `http_api.max_batch_size`. */
  private checkBatchSize(size: number, what: string): void {
    const max = this.node.config.http_api.max_batch_size;
    if (max > 0 && size > max) {
      throw new ProtocolException(
        { code: Errors.limitExceeded.code, message: `${size} ${what}: more than http_api.max_batch_size (${max})` },
        { msg: 'server API: batch too large', fields: { size, max } },
      );
    }
  }
}

function flag<K extends string>(key: K, v: ApiBoolValue | undefined): Partial<Record<K, boolean>> {
  return v === undefined ? {} : ({ [key]: v.value } as Record<K, boolean>);
}

/** Items of a batch or broadcast handled between two turns of the event loop. */
const CHUNK = 100;

/**
 * Runs `fn` over the items, one after another or `parallel` within chunks, and lets the event loop
 * serve everyone else between chunks: a large batch never blocks the node.
 */
async function inChunks<T, R>(items: readonly T[], parallel: boolean, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += CHUNK) {
    if (i > 0) await yieldTurn();
    const chunk = items.slice(i, i + CHUNK);
    if (parallel) out.push(...(await Promise.all(chunk.map(fn))));
    else for (const item of chunk) out.push(await fn(item));
  }
  return out;
}

/** A client's info as the API returns it (its raw JSON parsed back into values). */
export function clientInfoJson(info: ClientInfo): ApiClientInfo {
  return {
    client: info.client,
    user: info.user,
    ...(info.connInfo !== undefined && { conn_info: JSON.parse(info.connInfo) as unknown }),
    ...(info.chanInfo !== undefined && { chan_info: JSON.parse(info.chanInfo) as unknown }),
  };
}

/** A publication as the API returns it (data parsed back into JSON; binary data as `b64data`). */
export function publicationJson(pub: Publication): ApiPublication {
  return {
    ...(typeof pub.data === 'string'
      ? { data: JSON.parse(pub.data) as unknown }
      : { b64data: Buffer.from(pub.data.buffer, pub.data.byteOffset, pub.data.byteLength).toString('base64') }),
    ...(pub.info !== undefined && { info: clientInfoJson(pub.info) }),
    ...(pub.offset > 0 && { offset: pub.offset }),
    ...(pub.tags !== undefined && { tags: pub.tags }),
  };
}
