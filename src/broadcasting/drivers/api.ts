/**
 * The server API driver: publishes through any {@link ServerApiClient} (HTTP, gRPC, in-process).
 * One topic is a `publish`, several are one `broadcast`; history is kept unless `skipHistory`.
 */
import { randomUUID } from 'node:crypto';
import { backoffDelay, isTemporaryCode, retryPolicy, sleep, withRetries, type RetryOptions, type RetryPolicy } from '../../api/client/retry.js';
import { ApiClientError, type ServerApiClient } from '../../api/client/types.js';
import type { ApiError, ApiPublishRequest } from '../../api/types.js';
import { AbstractBroadcast } from '../abstract.js';
import { BroadcastConfigError } from '../errors.js';
import type { BroadcastMessage } from '../normalize.js';
import type { ClosableBroadcast, DriverContext } from '../types.js';

/** What the driver needs of a server API client. */
export type PublishingClient = Pick<ServerApiClient, 'publish' | 'broadcast'> & { close?(): Promise<void> };

/** Makes the idempotency key of one message (the same for all its topics and retries). */
export type IdempotencyKeyFn = (topics: readonly string[], message: BroadcastMessage) => string | undefined;

export interface ApiBroadcastOptions extends RetryOptions {
  /** Do not keep the publications in the channels' history. Default **false**: history is kept. */
  skipHistory?: boolean;
  /** Tags attached to every publication. */
  tags?: Readonly<Record<string, string>>;
  /**
   * An idempotency key per message, so a retried publish is not published twice: `true` for a
   * random one per message, or a function of the topics and the message. Default none.
   */
  idempotencyKey?: true | IdempotencyKeyFn;
  /** Publish as fossil delta to subscribers that negotiated it. */
  delta?: boolean;
  /**
   * Whether the client retries failed calls itself (the HTTP client does). When false, the driver
   * retries temporary failures of whole calls; either way it retries the channels a `broadcast`
   * answered with a temporary error. Default false.
   */
  clientRetries?: boolean;
  /** Close the client when the driver is closed. Default true. */
  ownsClient?: boolean;
}

function checkOptions(o: ApiBroadcastOptions, connection: string, driver: string): RetryPolicy {
  const bad = (what: string): never => {
    throw new BroadcastConfigError(`broadcast connection "${connection}": ${what}`, connection, driver);
  };
  if (o.skipHistory !== undefined && typeof o.skipHistory !== 'boolean') bad('skipHistory must be a boolean');
  if (o.delta !== undefined && typeof o.delta !== 'boolean') bad('delta must be a boolean');
  if (o.tags !== undefined) {
    if (typeof o.tags !== 'object' || o.tags === null || Array.isArray(o.tags)) bad('tags must be an object of strings');
    for (const [k, v] of Object.entries(o.tags)) if (typeof v !== 'string') bad(`tags.${k} must be a string`);
  }
  if (o.idempotencyKey !== undefined && o.idempotencyKey !== true && typeof o.idempotencyKey !== 'function') {
    bad('idempotencyKey must be true or a function (topics, message) => string');
  }
  try {
    return retryPolicy(o);
  } catch (e) {
    return bad((e as Error).message);
  }
}

/** Publishes through a server API client. */
export class ApiBroadcast extends AbstractBroadcast implements ClosableBroadcast {
  private readonly policy: RetryPolicy;
  private readonly closer = new AbortController();

  constructor(
    readonly client: PublishingClient,
    private readonly options: ApiBroadcastOptions = {},
    context?: Partial<DriverContext>,
  ) {
    super(context);
    this.policy = checkOptions(options, this.connection, this.driver);
  }

  /** The request fields shared by every topic of one message. */
  private fields(topics: readonly string[], message: BroadcastMessage): Omit<ApiPublishRequest, 'channel'> {
    const o = this.options;
    const key = o.idempotencyKey === true ? randomUUID() : o.idempotencyKey?.(topics, message);
    return {
      data: message.data,
      ...(o.skipHistory === true && { skip_history: true }),
      ...(o.tags !== undefined && { tags: { ...o.tags } }),
      ...(key !== undefined && key !== '' && { idempotency_key: key }),
      ...(o.delta !== undefined && { delta: o.delta }),
    };
  }

  /** A whole call, retried here unless the client retries itself. */
  private call<T>(fn: () => Promise<T>): Promise<T> {
    if (this.options.clientRetries === true) return fn();
    return withRetries(this.policy, fn, this.closer.signal);
  }

  protected async send(topics: readonly string[], messages: readonly BroadcastMessage[]): Promise<void> {
    for (const message of messages) {
      const fields = this.fields(topics, message);
      if (topics.length === 1) {
        const channel = topics[0]!;
        await this.call(() => this.client.publish({ channel, ...fields }));
        continue;
      }
      await this.broadcastOne(topics, fields);
    }
  }

  /**
   * One message to several topics: channels answered with a temporary error are tried again (with
   * backoff, up to `retries` times); then any channel still failing fails the publish.
   */
  private async broadcastOne(topics: readonly string[], fields: Omit<ApiPublishRequest, 'channel'>): Promise<void> {
    const failed: Array<{ topic: string; error: ApiError }> = [];
    let pending = [...topics];
    for (let retry = 0; pending.length > 0; retry++) {
      const channels = pending;
      let res: Awaited<ReturnType<PublishingClient['broadcast']>>;
      try {
        res = await this.call(() => this.client.broadcast({ channels, ...fields }));
      } catch (e) {
        throw this.failure([...failed.map((f) => f.topic), ...channels], e);
      }
      const again: Array<{ topic: string; error: ApiError }> = [];
      channels.forEach((topic, i) => {
        const error = res.responses?.[i]?.error;
        if (error === undefined || error === null) return;
        (isTemporaryCode(error.code) ? again : failed).push({ topic, error });
      });
      pending = again.map((f) => f.topic);
      if (again.length === 0) break;
      if (retry >= this.policy.retries || this.closer.signal.aborted) {
        failed.push(...again);
        break;
      }
      await sleep(backoffDelay(this.policy, retry + 1), this.closer.signal).catch(() => undefined);
    }
    if (failed.length === 0) return;
    const first = failed[0]!;
    const temporary = failed.every((f) => isTemporaryCode(f.error.code));
    const cause = new ApiClientError(first.error.code, first.error.message, isTemporaryCode(first.error.code), 'broadcast');
    const detail = failed.map((f) => `"${f.topic}": ${f.error.message} (code ${f.error.code})`).join('; ');
    throw this.error(detail, { topics: failed.map((f) => f.topic), code: first.error.code, temporary, cause });
  }

  /** Stops retries in progress and closes the client (when it owns it). */
  async close(): Promise<void> {
    this.closer.abort(new Error('broadcast closed'));
    if (this.options.ownsClient !== false) await this.client.close?.();
  }
}
