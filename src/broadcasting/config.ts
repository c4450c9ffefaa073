/**
 * The broadcasting configuration (the TypeScript form of a `broadcasting.php` config file):
 * named connections, each with a driver and its options, the default connection, connection and
 * driver aliases, and topic authorization.
 */
import type { Logger } from '../log.js';
import type { TopicCallback, TopicRegistry } from '../handlers/topics.js';
import type { GrpcBroadcastOptions } from './drivers/grpc.js';
import type { HttpBroadcastOptions } from './drivers/http.js';
import type { LocalBroadcastOptions } from './drivers/local.js';
import type { LogBroadcastOptions } from './drivers/log.js';
import type { SubscriptionTokenOptions } from './middleware.js';
import type { UserResolver } from './guard.js';
import type { Broadcast, DriverContext } from './types.js';

/** What a driver factory gets besides its options. */
export interface DriverFactoryContext extends DriverContext {
  /** The manager's logger, when it was given one. */
  readonly logger: Logger | undefined;
  /** The topic authorization registry of `authorize.topics`, when configured (for drivers that are also guards). */
  readonly topics: TopicRegistry<Request> | undefined;
}

/** Builds a connection's broadcast from its options (everything in its config but `driver`). */
export type DriverFunction<O = Record<string, unknown>> = (options: O, context: DriverFactoryContext) => Broadcast;

/** A driver class: `new Driver(options, context)`, like the built-in ones. */
export type DriverClass<O = Record<string, unknown>> = new (options: O, context: DriverFactoryContext) => Broadcast;

/** A driver: a factory function or a driver class. */
// `any` by default: a factory of any options type fits, whatever its options interface.
export type DriverFactory<O = any> = DriverFunction<O> | DriverClass<O>;

/** Names of the built-in drivers. */
export type BuiltinDriver = 'null' | 'log' | 'local' | 'http' | 'grpc';

export type NullConnectionConfig = { driver: 'null' };
export type LogConnectionConfig = { driver: 'log' } & LogBroadcastOptions;
/** `gyre` may be left out when the manager was given one. */
export type LocalConnectionConfig = { driver: 'local' } & Omit<LocalBroadcastOptions, 'gyre'> & Partial<Pick<LocalBroadcastOptions, 'gyre'>>;
export type HttpConnectionConfig = { driver: 'http' } & HttpBroadcastOptions;
export type GrpcConnectionConfig = { driver: 'grpc' } & GrpcBroadcastOptions;
/** A connection with a custom driver: an alias (from `driverAliases` or `extend`), a factory or a class. */
export type CustomConnectionConfig = { driver: string | DriverFactory; [option: string]: unknown };

export type ConnectionConfig =
  | NullConnectionConfig
  | LogConnectionConfig
  | LocalConnectionConfig
  | HttpConnectionConfig
  | GrpcConnectionConfig
  | CustomConnectionConfig;

/** Topic patterns → callbacks; params are typed from the pattern (`order.{uuid}` gives `uuid`). */
export type TopicsConfig<T = Record<string, unknown>> = { [P in keyof T]: TopicCallback<P & string, Request> };

export interface AuthorizeConfig<T = Record<string, unknown>> {
  /** The exact path of the authorization endpoint; `BROADCAST_AUTHORIZE_PATH` overrides it. */
  path?: string;
  /** The topic authorization rules: a registry, or patterns → callbacks (first match wins). */
  topics?: TopicRegistry<Request> | TopicsConfig<T>;
  /** Who is asking (default: everyone is anonymous, `""`). */
  userResolver?: UserResolver;
  /** Sign Centrifugo subscription tokens for authorized channels (`?token=1`). */
  token?: SubscriptionTokenOptions;
}

export interface BroadcastingConfig<T = Record<string, unknown>> {
  /** The default connection's name; `BROADCAST_CONNECTION` overrides it. */
  default?: string;
  connections: Readonly<Record<string, ConnectionConfig>>;
  /** Other names of connections: alias → connection name. */
  aliases?: Readonly<Record<string, string>>;
  /** Driver names → a factory, a driver class, or another driver name. */
  driverAliases?: Readonly<Record<string, string | DriverFactory>>;
  authorize?: AuthorizeConfig<T>;
}

/**
 * Types a broadcasting config (and infers the parameters of `authorize.topics` patterns):
 *
 * ```ts
 * export default defineBroadcasting({
 *   default: 'log',
 *   connections: { log: { driver: 'log' }, null: { driver: 'null' } },
 *   authorize: { topics: { 'order.{uuid}': ({ uuid, userId }) => owns(userId, uuid) } },
 * });
 * ```
 */
export function defineBroadcasting<T = Record<string, unknown>>(config: BroadcastingConfig<T>): BroadcastingConfig<T> {
  return config;
}
