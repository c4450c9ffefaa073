/**
 * Broadcasting: application code publishes messages to topics through named connections and
 * drivers (null, log, local, http, grpc, custom), plus topic authorization (guard + middleware).
 */
export type { Broadcast, ClosableBroadcast, DriverContext, JsonValue, Message, Messages, Stringable, Topic, Topics } from './types.js';
export { BroadcastError, BroadcastConfigError, type BroadcastErrorDetails } from './errors.js';
export { BroadcastMessage, toMessages, toTopics, topicName } from './normalize.js';
export { AbstractBroadcast } from './abstract.js';
export { NullBroadcast } from './drivers/null.js';
export { LogBroadcast, LOG_LEVELS, type LogBroadcastOptions, type LogLevel } from './drivers/log.js';
export { ApiBroadcast, type ApiBroadcastOptions, type IdempotencyKeyFn, type PublishingClient } from './drivers/api.js';
export { LocalBroadcast, inProcessClient, type LocalBroadcastOptions } from './drivers/local.js';
export { HttpBroadcast, type HttpBroadcastOptions } from './drivers/http.js';
export { GrpcBroadcast, type GrpcBroadcastOptions } from './drivers/grpc.js';
export {
  defineBroadcasting,
  type AuthorizeConfig,
  type BroadcastingConfig,
  type BuiltinDriver,
  type ConnectionConfig,
  type CustomConnectionConfig,
  type DriverClass,
  type DriverFactory,
  type DriverFactoryContext,
  type DriverFunction,
  type GrpcConnectionConfig,
  type HttpConnectionConfig,
  type LocalConnectionConfig,
  type LogConnectionConfig,
  type NullConnectionConfig,
  type TopicsConfig,
} from './config.js';
export { BroadcastManager, CONNECTION_ENV, topicRegistryOf, type BroadcastManagerOptions } from './manager.js';
export { AuthorizationStatus, TopicGuard, channelNameOf, type Guard, type TopicGuardOptions, type UserResolver } from './guard.js';
export {
  AuthorizationMiddleware,
  AUTHORIZE_PATH_ENV,
  type AuthorizationMiddlewareOptions,
  type NextFunction,
  type SubscriptionTokenOptions,
} from './middleware.js';
