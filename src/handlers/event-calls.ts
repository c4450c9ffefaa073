/**
 * The event-call contract: how a node asks whoever decides client events (connect, refresh,
 * subscribe, publish, rpc, sub_refresh). Two implementations exist: the in-process handlers
 * ({@link HandlerCalls}) and the proxies to HTTP / gRPC backends (`proxy/calls.ts`). The server
 * hands the node one {@link EventDeciders}, so node/ depends on this contract only.
 */
import type { ChannelOptions } from '../config/types.js';
import type { ConnectionContext, RequestType } from './requests.js';
import type {
  ConnectResponseFields,
  PublishResponseFields,
  RefreshResponseFields,
  SubRefreshResponseFields,
  SubscribeResponseFields,
} from './responses.js';

/**
 * The calls a node makes for client events. Each resolves with the decided fields, or throws a
 * `ProtocolException` (error answer) or `DisconnectException` (disconnect answer).
 */
export interface EventCalls {
  connect(ctx: ConnectionContext, data: unknown, name: string, version: string, channels: string[]): Promise<ConnectResponseFields>;
  refresh(ctx: ConnectionContext): Promise<RefreshResponseFields>;
  subscribe(ctx: ConnectionContext, channel: string, token: string, data: unknown): Promise<SubscribeResponseFields>;
  publish(ctx: ConnectionContext, channel: string, data: unknown): Promise<PublishResponseFields>;
  rpc(ctx: ConnectionContext, method: string, data: unknown): Promise<{ data?: unknown }>;
  subRefresh(ctx: ConnectionContext, channel: string): Promise<SubRefreshResponseFields>;
}

/** What an event is about: the channel's options (or its name) for channel events, the method for rpc. */
export type EventTarget = ChannelOptions | string;

/** Picks who decides an event; undefined when nobody does (the config rules decide). */
export interface EventDeciders {
  /** The calls that decide `type` for `target`, or undefined. */
  decider(type: RequestType, target?: EventTarget): EventCalls | undefined;
  /** Releases what the deciders hold (backend connections). */
  close(): Promise<void>;
}

/**
 * Deciders asked in order, the first that decides an event wins: the server puts the in-process
 * handlers first (they win over proxies), then the proxies.
 */
export class DeciderChain implements EventDeciders {
  private readonly chain: readonly EventDeciders[];

  constructor(...chain: ReadonlyArray<EventDeciders | undefined>) {
    this.chain = chain.filter((d): d is EventDeciders => d !== undefined);
  }

  /** True when no decider is in the chain. */
  get empty(): boolean {
    return this.chain.length === 0;
  }

  decider(type: RequestType, target?: EventTarget): EventCalls | undefined {
    for (const d of this.chain) {
      const calls = d.decider(type, target);
      if (calls !== undefined) return calls;
    }
    return undefined;
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.chain.map((d) => d.close()));
  }
}
