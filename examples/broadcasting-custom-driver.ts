/**
 * A custom broadcast driver, in the spirit of the seed's Pusher driver: it publishes through
 * Pusher's REST API (`POST /apps/<appId>/events`, signed with the app secret — no SDK needed) and is
 * also the guard of the authorization endpoint, answering in Pusher's `{"auth": "<key>:<signature>"}`
 * format for the topics the broadcasting config authorizes.
 *
 * A driver extends AbstractBroadcast and implements `send(topics, messages)`: topics arrive as
 * checked, de-duplicated names and messages as JSON (`message.data`, `message.json`); whatever it
 * throws reaches the caller as a BroadcastError naming the topic, driver and connection.
 *
 * Register it by alias, in the config or on the manager:
 *
 *   driverAliases: { pusher: PusherBroadcast }        // or: manager.extend('pusher', PusherBroadcast)
 *   connections:   { pusher: { driver: 'pusher', appId, key, secret, cluster: 'eu' } }
 *
 * Run against a real Pusher app (publishes one message to `orders`):
 *
 *   PUSHER_APP_ID=... PUSHER_KEY=... PUSHER_SECRET=... PUSHER_CLUSTER=eu \
 *     node --import tsx examples/broadcasting-custom-driver.ts
 */
import { createHash, createHmac } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  AbstractBroadcast,
  AuthorizationStatus,
  BroadcastManager,
  TopicGuard,
  channelNameOf,
  type BroadcastMessage,
  type DriverFactoryContext,
  type Guard,
  type UserResolver,
} from 'gyre';

export interface PusherOptions {
  appId: string;
  key: string;
  secret: string;
  /** The cluster (`eu`, `us2` ...): the API host is `https://api-<cluster>.pusher.com`. */
  cluster?: string;
  /** Another API host (a self-hosted Pusher-compatible server, or a test endpoint). */
  host?: string;
  /** The Pusher event name of the messages. Default `message`. */
  event?: string;
  /** Who asks on the authorization endpoint (default anonymous). */
  userResolver?: UserResolver;
}

/** Pusher accepts at most 100 channels per event. */
const MAX_CHANNELS = 100;

export class PusherBroadcast extends AbstractBroadcast implements Guard<Request> {
  private readonly base: string;
  private readonly event: string;
  private readonly guard: TopicGuard | undefined;

  constructor(
    private readonly options: PusherOptions,
    context?: Partial<DriverFactoryContext>,
  ) {
    super(context);
    for (const k of ['appId', 'key', 'secret'] as const) {
      if (typeof options[k] !== 'string' || options[k] === '') throw new TypeError(`pusher: ${k} is required`);
    }
    this.base = options.host ?? `https://api-${options.cluster ?? 'mt1'}.pusher.com`;
    this.event = options.event ?? 'message';
    this.guard =
      context?.topics !== undefined
        ? new TopicGuard(context.topics, options.userResolver !== undefined ? { userResolver: options.userResolver } : {})
        : undefined;
  }

  protected async send(topics: readonly string[], messages: readonly BroadcastMessage[]): Promise<void> {
    for (const message of messages) {
      for (let i = 0; i < topics.length; i += MAX_CHANNELS) {
        await this.trigger(topics.slice(i, i + MAX_CHANNELS), message.json);
      }
    }
  }

  /** One signed `POST /apps/<id>/events` (Pusher's REST authentication, version 1.0). */
  private async trigger(channels: readonly string[], data: string): Promise<void> {
    const path = `/apps/${this.options.appId}/events`;
    const body = JSON.stringify({ name: this.event, channels, data });
    const query = new URLSearchParams({
      auth_key: this.options.key,
      auth_timestamp: String(Math.floor(Date.now() / 1000)),
      auth_version: '1.0',
      body_md5: createHash('md5').update(body).digest('hex'),
    });
    query.sort();
    const toSign = `POST\n${path}\n${decodeURIComponent(query.toString())}`;
    query.set('auth_signature', createHmac('sha256', this.options.secret).update(toSign).digest('hex'));
    const res = await fetch(`${this.base}${path}?${query.toString()}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body,
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) throw new Error(`Pusher answered HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
  }

  /**
   * Pusher's channel authorization: the client posts `socket_id` and `channel_name` as a form; an
   * authorized channel is answered with `{"auth": "<key>:<HMAC(socket_id:channel_name)>"}`.
   */
  async authorize(request: Request): Promise<AuthorizationStatus> {
    if (this.guard === undefined) return new AuthorizationStatus(false, []);
    const status = await this.guard.authorize(request);
    if (!status.success) return status;
    const channel = (await channelNameOf(request))!;
    const form = new URLSearchParams(await request.clone().text());
    const socketId = new URL(request.url).searchParams.get('socket_id') ?? form.get('socket_id');
    if (socketId === null || !/^\d+\.\d+$/.test(socketId)) return new AuthorizationStatus(false, status.topics, status.attributes);
    const signature = createHmac('sha256', this.options.secret).update(`${socketId}:${channel}`).digest('hex');
    const response = Response.json({ auth: `${this.options.key}:${signature}` });
    return new AuthorizationStatus(true, status.topics, status.attributes, response);
  }
}

// Run directly: publish one message through a real Pusher app.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const env = process.env;
  const manager = new BroadcastManager({
    default: 'pusher',
    connections: {
      pusher: {
        driver: 'pusher',
        appId: env['PUSHER_APP_ID'] ?? '',
        key: env['PUSHER_KEY'] ?? '',
        secret: env['PUSHER_SECRET'] ?? '',
        cluster: env['PUSHER_CLUSTER'] ?? 'mt1',
      },
    },
    driverAliases: { pusher: PusherBroadcast },
  });
  await manager.publish('orders', { status: 'purchased', at: new Date() });
  console.log('published to orders');
}
