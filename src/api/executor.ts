/**
 * The server API command executor: one implementation of every server API method, shared by the
 * HTTP API (and later the gRPC API and in-process callers). Methods take decoded JSON parameters
 * and return JSON-ready results, or throw a {@link ProtocolException}.
 */
import { setImmediate as yieldTurn } from 'node:timers/promises';
import { Disconnects, Errors, ProtocolException, Unsubscribes } from '../protocol/codes.js';
import type { Publication } from '../protocol/types.js';
import type { GyreNode } from '../node/node.js';
import { b64ToRawJson, toRawJson } from '../node/raw-json.js';
import type { SubscriptionOverride } from '../node/subscription.js';
import { asParams, bool, boolValue, int, obj, reqStr, str, strList, strMap, type Params } from './params.js';
import { compileGlob, MAX_PATTERN_LENGTH } from './glob.js';

/** A JSON-ready API result object. */
export type ApiResult = Record<string, unknown>;

type Method = (p: Params) => Promise<ApiResult>;

/** One reply inside a `batch` or `broadcast`: a result or an error. */
export type ApiReply = { result: ApiResult } | { error: { code: number; message: string } };

export class CommandExecutor {
  private readonly methods: ReadonlyMap<string, Method>;

  constructor(private readonly node: GyreNode) {
    this.methods = new Map<string, Method>([
      ['publish', (p) => this.publish(p)],
      ['broadcast', (p) => this.broadcast(p)],
      ['subscribe', (p) => this.everywhere('subscribe', p)],
      ['unsubscribe', (p) => this.everywhere('unsubscribe', p)],
      ['disconnect', (p) => this.everywhere('disconnect', p)],
      ['refresh', (p) => this.everywhere('refresh', p)],
      ['presence', (p) => this.presence(p)],
      ['presence_stats', (p) => this.presenceStats(p)],
      ['history', (p) => this.history(p)],
      ['history_remove', (p) => this.historyRemove(p)],
      ['channels', (p) => this.channels(p)],
      ['info', () => this.info()],
      ['rpc', () => this.rpc()],
      ['batch', (p) => this.batch(p)],
    ]);
    this.local = new Map<string, Method>([
      ['subscribe', (p) => this.subscribe(p)],
      ['unsubscribe', (p) => this.unsubscribe(p)],
      ['disconnect', (p) => this.disconnect(p)],
      ['refresh', (p) => this.refresh(p)],
    ]);
    // Commands and surveys from other nodes of the cluster.
    node.cluster.setHandler({
      applyApi: async (method, params) => {
        await this.local.get(method)?.(asParams(params));
      },
      survey: async (op, params) => (op === 'channels' ? this.localChannels(str(asParams(params), 'pattern')) : undefined),
    });
  }

  /** Methods acting on connections: applied to this node's, then sent to every other node. */
  private readonly local: ReadonlyMap<string, Method>;

  private async everywhere(method: string, p: Params): Promise<ApiResult> {
    const result = await this.local.get(method)!(p);
    await this.node.cluster.broadcastApi(method, p);
    return result;
  }

  /** True when `method` is a server API method. */
  has(method: string): boolean {
    return this.methods.has(method);
  }

  /** Runs one method; throws 104 for an unknown one. */
  async execute(method: string, params: unknown): Promise<ApiResult> {
    const m = this.methods.get(method);
    if (m === undefined) throw new ProtocolException(Errors.methodNotFound);
    return m(asParams(params));
  }

  /** Runs a method and captures its error as a reply (for batch and broadcast). */
  async reply(method: string, params: unknown): Promise<ApiReply> {
    try {
      return { result: await this.execute(method, params) };
    } catch (e) {
      return { error: errorOf(e, this.node) };
    }
  }

  private payload(p: Params): string {
    const b64 = str(p, 'b64data');
    if (b64 !== '') return b64ToRawJson(b64);
    if (p['data'] === undefined || p['data'] === null) throw new ProtocolException(Errors.badRequest);
    return toRawJson(p['data']);
  }

  private async publishOne(channel: string, data: string, p: Params): Promise<ApiResult> {
    const tags = strMap(p, 'tags');
    const idempotencyKey = str(p, 'idempotency_key');
    const res = await this.node.publish(channel, data, {
      skipHistory: bool(p, 'skip_history'),
      ...(tags !== undefined && { tags }),
      ...(idempotencyKey !== '' && { idempotencyKey }),
      ...(p['delta'] !== undefined && { delta: bool(p, 'delta') }),
    });
    const out: ApiResult = {};
    if (res.position.offset > 0) out['offset'] = res.position.offset;
    if (res.position.epoch !== '') out['epoch'] = res.position.epoch;
    return out;
  }

  private async publish(p: Params): Promise<ApiResult> {
    const channel = reqStr(p, 'channel');
    return this.publishOne(channel, this.payload(p), p);
  }

  private async broadcast(p: Params): Promise<ApiResult> {
    const channels = strList(p, 'channels');
    if (channels.length === 0) throw new ProtocolException(Errors.badRequest);
    this.checkBatchSize(channels.length, 'channels in a broadcast');
    const data = this.payload(p);
    const responses = await inChunks(channels, true, async (channel): Promise<ApiReply> => {
      try {
        if (channel === '') throw new ProtocolException(Errors.badRequest);
        return { result: await this.publishOne(channel, data, p) };
      } catch (e) {
        return { error: errorOf(e, this.node) };
      }
    });
    return { responses };
  }

  private async subscribe(p: Params): Promise<ApiResult> {
    const user = str(p, 'user');
    const channel = reqStr(p, 'channel');
    const resolved = this.node.rules.resolve(channel);
    const since = obj(p, 'recover_since');
    const ov = obj(p, 'override');
    const override: SubscriptionOverride | undefined = ov && {
      ...opt('presence', boolValue(ov, 'presence')),
      ...opt('join_leave', boolValue(ov, 'join_leave')),
      ...opt('force_push_join_leave', boolValue(ov, 'force_push_join_leave')),
      ...opt('force_recovery', boolValue(ov, 'force_recovery')),
      ...opt('force_positioning', boolValue(ov, 'force_positioning')),
    };
    const info = p['info'];
    const data = p['data'];
    const b64info = str(p, 'b64info');
    const b64data = str(p, 'b64data');
    const spec = {
      resolved,
      serverSide: true,
      recover: since && { offset: int(since, 'offset') ?? 0, epoch: str(since, 'epoch') },
      chanInfo: b64info !== '' ? b64ToRawJson(b64info) : info !== undefined && info !== null ? toRawJson(info) : undefined,
      data: b64data !== '' ? b64ToRawJson(b64data) : data !== undefined && data !== null ? toRawJson(data) : undefined,
      override,
      expireAt: int(p, 'expire_at') ?? 0,
    };
    for (const c of this.node.clientsOf(user, str(p, 'client'))) await c.serverSubscribe(spec);
    return {};
  }

  private async unsubscribe(p: Params): Promise<ApiResult> {
    const user = str(p, 'user');
    const channel = reqStr(p, 'channel');
    for (const c of this.node.clientsOf(user, str(p, 'client'))) await c.serverUnsubscribe(channel, Unsubscribes.server);
    return {};
  }

  private async disconnect(p: Params): Promise<ApiResult> {
    const user = str(p, 'user');
    const d = obj(p, 'disconnect');
    const disconnect = d !== undefined ? { code: int(d, 'code') ?? 0, reason: str(d, 'reason') } : Disconnects.forceNoReconnect;
    if (disconnect.code < 3000 || disconnect.code > 4999 || Buffer.byteLength(disconnect.reason) > 123) {
      throw new ProtocolException(Errors.badRequest);
    }
    const whitelist = new Set(strList(p, 'whitelist'));
    for (const c of this.node.clientsOf(user, str(p, 'client'))) if (!whitelist.has(c.id)) c.close(disconnect);
    return {};
  }

  private async refresh(p: Params): Promise<ApiResult> {
    const user = str(p, 'user');
    const expired = bool(p, 'expired');
    const expireAt = int(p, 'expire_at') ?? 0;
    const info = p['info'];
    for (const c of this.node.clientsOf(user, str(p, 'client'))) {
      if (expired) {
        c.close(Disconnects.expired);
        continue;
      }
      if (info !== undefined && info !== null) c.connInfo = toRawJson(info);
      c.applyExpiry(expireAt);
    }
    return {};
  }

  private async presence(p: Params): Promise<ApiResult> {
    const channel = reqStr(p, 'channel');
    if (!this.node.rules.resolve(channel).options.presence) throw new ProtocolException(Errors.notAvailable);
    const presence: Record<string, unknown> = {};
    for (const [id, info] of await this.node.presence.presence(channel)) {
      presence[id] = {
        client: info.client,
        user: info.user,
        ...(info.connInfo !== undefined && { conn_info: JSON.parse(info.connInfo) as unknown }),
        ...(info.chanInfo !== undefined && { chan_info: JSON.parse(info.chanInfo) as unknown }),
      };
    }
    return { presence };
  }

  private async presenceStats(p: Params): Promise<ApiResult> {
    const channel = reqStr(p, 'channel');
    if (!this.node.rules.resolve(channel).options.presence) throw new ProtocolException(Errors.notAvailable);
    const s = await this.node.presence.presenceStats(channel);
    return { num_clients: s.numClients, num_users: s.numUsers };
  }

  private async history(p: Params): Promise<ApiResult> {
    const channel = reqStr(p, 'channel');
    const since = obj(p, 'since');
    const res = await this.node.history(channel, {
      limit: int(p, 'limit'),
      reverse: bool(p, 'reverse'),
      since: since && { offset: int(since, 'offset') ?? 0, epoch: str(since, 'epoch') },
    });
    return {
      publications: res.publications.map(publicationJson),
      offset: res.position.offset,
      epoch: res.position.epoch,
    };
  }

  private async historyRemove(p: Params): Promise<ApiResult> {
    const channel = reqStr(p, 'channel');
    this.node.rules.resolve(channel);
    await this.node.broker.removeHistory(channel);
    return {};
  }

  /** The channels with subscribers on any node, with their subscriber counts summed over nodes. */
  private async channels(p: Params): Promise<ApiResult> {
    const pattern = str(p, 'pattern');
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

  /** Every live node: this one, then those the registry has heard from. */
  private async info(): Promise<ApiResult> {
    return { nodes: this.node.cluster.nodeInfos() };
  }

  private async rpc(): Promise<ApiResult> {
    throw new ProtocolException(Errors.methodNotFound);
  }

  private async batch(p: Params): Promise<ApiResult> {
    const commands = p['commands'];
    if (!Array.isArray(commands)) throw new ProtocolException(Errors.badRequest);
    this.checkBatchSize(commands.length, 'commands in a batch');
    const run = async (cmd: unknown): Promise<Record<string, unknown>> => {
      const c = asParams(cmd);
      const method = Object.keys(c).find((k) => this.methods.has(k) && k !== 'batch');
      if (method === undefined) return { error: Errors.methodNotFound };
      const r = await this.reply(method, c[method]);
      return 'result' in r ? { [method]: r.result } : r;
    };
    return { replies: await inChunks(commands, bool(p, 'parallel'), run) };
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

function opt<K extends string>(key: K, v: boolean | undefined): Partial<Record<K, boolean>> {
  return v === undefined ? {} : ({ [key]: v } as Record<K, boolean>);
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

/** A publication as the API returns it (data parsed back into JSON). */
function publicationJson(pub: Publication): Record<string, unknown> {
  return {
    data: JSON.parse(pub.data) as unknown,
    ...(pub.info !== undefined && {
      info: {
        user: pub.info.user,
        client: pub.info.client,
        ...(pub.info.connInfo !== undefined && { conn_info: JSON.parse(pub.info.connInfo) as unknown }),
        ...(pub.info.chanInfo !== undefined && { chan_info: JSON.parse(pub.info.chanInfo) as unknown }),
      },
    }),
    ...(pub.offset > 0 && { offset: pub.offset }),
    ...(pub.tags !== undefined && { tags: pub.tags }),
  };
}

/** The protocol error of an exception; anything unexpected is logged and becomes 100. */
export function errorOf(e: unknown, node: GyreNode): { code: number; message: string } {
  if (e instanceof ProtocolException) return { code: e.error.code, message: e.error.message };
  node.log.error({ err: e }, 'server API command failed');
  return { code: Errors.internal.code, message: Errors.internal.message };
}
