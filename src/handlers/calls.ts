/**
 * Asking the application's handlers: builds the typed request for a client command, runs it through
 * the handler pipeline, and turns the answer into what the client needs (an error answer becomes a
 * ProtocolException, a disconnect a DisconnectException).
 */
import type { Logger } from 'pino';
import type { Outcome } from './answer.js';
import type { EventCalls, EventDeciders } from './event-calls.js';
import { newSlot, type Handlers } from './pipeline.js';
import {
  ConnectRequest,
  PublishRequest,
  RefreshRequest,
  RPCRequest,
  SubRefreshRequest,
  SubscribeRequest,
  type ConnectionContext,
  type RequestType,
} from './requests.js';
import type {
  ConnectResponseFields,
  PublishResponseFields,
  RefreshResponseFields,
  SubRefreshResponseFields,
  SubscribeResponseFields,
} from './responses.js';
import { DisconnectException, ProtocolException } from '../protocol/codes.js';

/** Unwraps an answer: the response's fields, or the error / disconnect thrown. */
function unwrap<R extends { fields: F }, F>(outcome: Outcome<R>): F {
  if (outcome.kind === 'error') throw new ProtocolException(outcome.error);
  if (outcome.kind === 'disconnect') throw new DisconnectException(outcome.disconnect);
  return outcome.response.fields;
}

/** The in-process handlers as event calls: a pipeline and its logger. */
export class HandlerCalls implements EventCalls, EventDeciders {
  constructor(
    readonly handlers: Handlers,
    private readonly log: Logger,
  ) {}

  /** These calls when a service handles `type`, else undefined. */
  decider(type: RequestType): EventCalls | undefined {
    return this.handlers.has(type) ? this : undefined;
  }

  async close(): Promise<void> {}

  async connect(ctx: ConnectionContext, data: unknown, name: string, version: string, channels: string[]): Promise<ConnectResponseFields> {
    const req = new ConnectRequest(ctx, newSlot(this.log, 'connect', ctx.client), data, name, version, channels);
    return unwrap(await this.handlers.run<'connect'>(req, this.log));
  }

  async refresh(ctx: ConnectionContext): Promise<RefreshResponseFields> {
    const req = new RefreshRequest(ctx, newSlot(this.log, 'refresh', ctx.client));
    return unwrap(await this.handlers.run<'refresh'>(req, this.log));
  }

  async subscribe(ctx: ConnectionContext, channel: string, token: string, data: unknown): Promise<SubscribeResponseFields> {
    const req = new SubscribeRequest(ctx, newSlot(this.log, 'subscribe', ctx.client), channel, token, data);
    return unwrap(await this.handlers.run<'subscribe'>(req, this.log));
  }

  async publish(ctx: ConnectionContext, channel: string, data: unknown): Promise<PublishResponseFields> {
    const req = new PublishRequest(ctx, newSlot(this.log, 'publish', ctx.client), channel, data);
    return unwrap(await this.handlers.run<'publish'>(req, this.log));
  }

  async rpc(ctx: ConnectionContext, method: string, data: unknown): Promise<{ data?: unknown }> {
    const req = new RPCRequest(ctx, newSlot(this.log, 'rpc', ctx.client), method, data);
    return unwrap(await this.handlers.run<'rpc'>(req, this.log));
  }

  async subRefresh(ctx: ConnectionContext, channel: string): Promise<SubRefreshResponseFields> {
    const req = new SubRefreshRequest(ctx, newSlot(this.log, 'sub_refresh', ctx.client), channel);
    return unwrap(await this.handlers.run<'sub_refresh'>(req, this.log));
  }
}
