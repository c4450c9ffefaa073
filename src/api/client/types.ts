/**
 * The typed client of a Gyre / Centrifugo server API, whatever carries it (HTTP or gRPC). Requests
 * and results are the server API's own types (`../types.ts`: snake_case, as on the wire); `data`
 * is any JSON value. A failure is an {@link ApiClientError}.
 */
import type {
  ApiBroadcastRequest,
  ApiBroadcastResult,
  ApiChannelRequest,
  ApiChannelsRequest,
  ApiChannelsResult,
  ApiDisconnectRequest,
  ApiHistoryRequest,
  ApiHistoryResult,
  ApiInfoResult,
  ApiPresenceResult,
  ApiPresenceStatsResult,
  ApiPublishRequest,
  ApiPublishResult,
  ApiRefreshRequest,
  ApiSubscribeRequest,
  ApiUnsubscribeRequest,
} from '../types.js';

/** A server API, remote. */
export interface ServerApiClient {
  publish(req: ApiPublishRequest): Promise<ApiPublishResult>;
  broadcast(req: ApiBroadcastRequest): Promise<ApiBroadcastResult>;
  subscribe(req: ApiSubscribeRequest): Promise<void>;
  unsubscribe(req: ApiUnsubscribeRequest): Promise<void>;
  disconnect(req: ApiDisconnectRequest): Promise<void>;
  refresh(req: ApiRefreshRequest): Promise<void>;
  presence(req: ApiChannelRequest): Promise<ApiPresenceResult>;
  presenceStats(req: ApiChannelRequest): Promise<ApiPresenceStatsResult>;
  history(req: ApiHistoryRequest): Promise<ApiHistoryResult>;
  historyRemove(req: ApiChannelRequest): Promise<void>;
  channels(req: ApiChannelsRequest): Promise<ApiChannelsResult>;
  info(): Promise<ApiInfoResult>;
  /** Releases connections. */
  close(): Promise<void>;
}

/**
 * A server API call failed: the server answered an error (`code` from the server API, e.g. 102), or
 * the call itself failed (`code` 100, `temporary`: network error, timeout, HTTP 5xx).
 */
export class ApiClientError extends Error {
  constructor(
    readonly code: number,
    message: string,
    /** Worth retrying: the server said so (code 100) or the call failed on the way. */
    readonly temporary: boolean,
    /** The method that failed. */
    readonly method: string,
    options?: { cause?: unknown },
  ) {
    super(`${method}: ${message} (code ${code})`, options);
    this.name = 'ApiClientError';
  }
}
