/**
 * The broadcast manager: named connections built from the config on first use and reused, the
 * default connection (`BROADCAST_CONNECTION` over the config's `default`), custom drivers, and the
 * topic authorization guard and middleware.
 */
import type { InProcessApi } from '../api/in-process.js';
import { TopicRegistry } from '../handlers/topics.js';
import type { Logger } from '../log.js';
import type { AuthorizeConfig, BroadcastingConfig, ConnectionConfig, DriverFactory, DriverFactoryContext } from './config.js';
import { GrpcBroadcast, type GrpcBroadcastOptions } from './drivers/grpc.js';
import { HttpBroadcast, type HttpBroadcastOptions } from './drivers/http.js';
import { LocalBroadcast, type LocalBroadcastOptions } from './drivers/local.js';
import { LogBroadcast, type LogBroadcastOptions } from './drivers/log.js';
import { NullBroadcast } from './drivers/null.js';
import { BroadcastConfigError } from './errors.js';
import { TopicGuard, type Guard } from './guard.js';
import { AuthorizationMiddleware } from './middleware.js';
import type { Broadcast, Messages, Topics } from './types.js';

/** The environment variable naming the default connection. */
export const CONNECTION_ENV = 'BROADCAST_CONNECTION';

export interface BroadcastManagerOptions {
  /** Where `BROADCAST_CONNECTION` and `BROADCAST_AUTHORIZE_PATH` are read (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>>;
  /** The logger of `log` connections without their own, and of the authorization middleware. */
  logger?: Logger;
  /** The node of `local` connections that name none: a Gyre (`createGyre()`), its `api`, or its server API. */
  gyre?: InProcessApi;
}

function isClass(f: DriverFactory): boolean {
  return /^class\b/.test(Function.prototype.toString.call(f));
}

function isBroadcast(v: unknown): v is Broadcast {
  return typeof v === 'object' && v !== null && typeof (v as { publish?: unknown }).publish === 'function';
}

function isGuard(v: unknown): v is Guard<Request> {
  return typeof v === 'object' && v !== null && typeof (v as { authorize?: unknown }).authorize === 'function';
}

function list(names: Iterable<string>): string {
  const all = [...names];
  return all.length === 0 ? 'none' : all.join(', ');
}

/** The built-in drivers. */
const BUILTIN: Readonly<Record<string, (options: Record<string, unknown>, context: DriverFactoryContext, manager: BroadcastManagerOptions) => Broadcast>> = {
  null: (_o, c) => new NullBroadcast({}, c),
  log: (o, c) => new LogBroadcast(o as LogBroadcastOptions, c),
  local: (o, c, m) => new LocalBroadcast({ ...(m.gyre !== undefined && { gyre: m.gyre }), ...o } as LocalBroadcastOptions, c),
  http: (o, c) => new HttpBroadcast(o as unknown as HttpBroadcastOptions, c),
  grpc: (o, c) => new GrpcBroadcast(o as unknown as GrpcBroadcastOptions, c),
};

/** A resolved driver: its name and how to build it. */
interface ResolvedDriver {
  name: string;
  build: (options: Record<string, unknown>, context: DriverFactoryContext) => Broadcast;
}

/**
 * `T` types the parameters of `authorize.topics` patterns (inferred from the config object).
 */
export class BroadcastManager<T = Record<string, unknown>> implements Broadcast {
  private readonly built = new Map<string, Broadcast>();
  private readonly extensions = new Map<string, DriverFactory>();
  private readonly env: Readonly<Record<string, string | undefined>>;
  private topicRegistry: TopicRegistry<Request> | undefined | null = null;
  private topicGuard: TopicGuard | undefined;

  constructor(
    readonly config: BroadcastingConfig<T>,
    private readonly options: BroadcastManagerOptions = {},
  ) {
    if (typeof config !== 'object' || config === null) throw new BroadcastConfigError('the broadcasting config must be an object');
    if (typeof config.connections !== 'object' || config.connections === null) {
      throw new BroadcastConfigError('the broadcasting config needs "connections": { name: { driver, ...options } }');
    }
    this.env = options.env ?? process.env;
  }

  /** The default connection's name: `BROADCAST_CONNECTION`, else the config's `default`. */
  get defaultConnection(): string {
    const fromEnv = this.env[CONNECTION_ENV];
    const name = fromEnv !== undefined && fromEnv !== '' ? fromEnv : this.config.default;
    if (name === undefined || name === '') {
      throw new BroadcastConfigError(`no default broadcast connection: set "default" in the broadcasting config or ${CONNECTION_ENV}`);
    }
    return name;
  }

  /** Follows connection aliases to a defined connection's name. */
  resolveName(name: string): string {
    const seen: string[] = [];
    let current = name;
    while (!Object.hasOwn(this.config.connections, current)) {
      const target = this.config.aliases?.[current];
      if (target === undefined) {
        const via = seen.length > 0 ? ` (via alias ${seen.map((s) => `"${s}"`).join(' → ')})` : '';
        throw new BroadcastConfigError(
          `broadcast connection "${current}" is not defined${via}; connections: ${list(Object.keys(this.config.connections))}` +
            (this.config.aliases !== undefined ? `; aliases: ${list(Object.keys(this.config.aliases))}` : ''),
          current,
        );
      }
      seen.push(current);
      if (seen.includes(target)) throw new BroadcastConfigError(`broadcast connection aliases form a cycle: ${[...seen, target].join(' → ')}`, name);
      current = target;
    }
    return current;
  }

  /** A connection by name (or alias); the default one without a name. Built once, then reused. */
  connection(name?: string): Broadcast {
    const resolved = this.resolveName(name ?? this.defaultConnection);
    let broadcast = this.built.get(resolved);
    if (broadcast === undefined) {
      broadcast = this.build(resolved, this.config.connections[resolved]!);
      this.built.set(resolved, broadcast);
    }
    return broadcast;
  }

  /**
   * Registers a driver under a name (it wins over `driverAliases` and the built-in drivers);
   * connections built before keep their driver.
   */
  extend(driver: string, factory: DriverFactory): this {
    if (typeof driver !== 'string' || driver === '') throw new BroadcastConfigError('extend: the driver name must be a non-empty string');
    if (typeof factory !== 'function') throw new BroadcastConfigError(`extend: the driver "${driver}" needs a factory function or a driver class`, undefined, driver);
    this.extensions.set(driver, factory);
    return this;
  }

  /** Publishes through the default connection. */
  publish(topics: Topics, messages: Messages): Promise<void> {
    let connection: Broadcast;
    try {
      connection = this.connection();
    } catch (e) {
      return Promise.reject(e as Error);
    }
    return connection.publish(topics, messages);
  }

  private resolveDriver(driver: unknown, connection: string): ResolvedDriver {
    const seen: string[] = [];
    let current = driver;
    for (;;) {
      if (typeof current === 'function') {
        const factory = current as DriverFactory;
        const name = seen[0] ?? (factory.name !== '' ? factory.name : 'custom');
        return {
          name,
          build: (options, context) =>
            isClass(factory) ? new (factory as new (o: unknown, c: DriverFactoryContext) => Broadcast)(options, context) : (factory as (o: unknown, c: DriverFactoryContext) => Broadcast)(options, context),
        };
      }
      if (typeof current !== 'string' || current === '') {
        throw new BroadcastConfigError(`broadcast connection "${connection}" has no driver: set "driver" to a driver name, factory or class`, connection);
      }
      const name: string = current;
      if (seen.includes(name)) throw new BroadcastConfigError(`broadcast driver aliases form a cycle: ${[...seen, name].join(' → ')}`, connection, name);
      seen.push(name);
      const extension = this.extensions.get(name);
      if (extension !== undefined) {
        current = extension;
        continue;
      }
      const alias = this.config.driverAliases?.[name];
      if (alias !== undefined) {
        current = alias;
        continue;
      }
      const builtin = BUILTIN[name];
      if (builtin !== undefined) return { name: seen[0]!, build: (o, c) => builtin(o, c, this.options) };
      const registered = [...this.extensions.keys(), ...Object.keys(this.config.driverAliases ?? {})];
      throw new BroadcastConfigError(
        `broadcast connection "${connection}": driver "${name}" is not defined; built-in drivers: ${list(Object.keys(BUILTIN))}` +
          (registered.length > 0 ? `; registered: ${list(new Set(registered))}` : '') +
          ` (register a custom driver with driverAliases or manager.extend())`,
        connection,
        name,
      );
    }
  }

  private build(connection: string, config: ConnectionConfig): Broadcast {
    if (typeof config !== 'object' || config === null) {
      throw new BroadcastConfigError(`broadcast connection "${connection}" must be an object { driver, ...options }`, connection);
    }
    const { driver, ...options } = config as { driver: unknown } & Record<string, unknown>;
    const resolved = this.resolveDriver(driver, connection);
    const context: DriverFactoryContext = { connection, driver: resolved.name, logger: this.options.logger, topics: this.topics() };
    let broadcast: unknown;
    try {
      broadcast = resolved.build(options, context);
    } catch (e) {
      if (e instanceof BroadcastConfigError) throw e;
      throw new BroadcastConfigError(`broadcast connection "${connection}" (driver "${resolved.name}"): ${(e as Error).message}`, connection, resolved.name, { cause: e });
    }
    if (!isBroadcast(broadcast)) {
      throw new BroadcastConfigError(`broadcast connection "${connection}": driver "${resolved.name}" did not make a Broadcast (no publish method)`, connection, resolved.name);
    }
    return broadcast;
  }

  /** The registry of `authorize.topics` (undefined when not configured). */
  topics(): TopicRegistry<Request> | undefined {
    if (this.topicRegistry === null) this.topicRegistry = topicRegistryOf(this.config.authorize as AuthorizeConfig | undefined);
    return this.topicRegistry;
  }

  /** The guard of `authorize.topics` and `authorize.userResolver`. */
  guard(): TopicGuard {
    if (this.topicGuard !== undefined) return this.topicGuard;
    const topics = this.topics();
    if (topics === undefined) throw new BroadcastConfigError('no topic authorization rules: set authorize.topics in the broadcasting config');
    const userResolver = this.config.authorize?.userResolver;
    return (this.topicGuard = new TopicGuard(topics, userResolver !== undefined ? { userResolver } : {}));
  }

  /**
   * The authorization middleware at `authorize.path` (or `BROADCAST_AUTHORIZE_PATH`). Its guard:
   * the one given; else the default connection when its driver is a guard (like a Pusher driver
   * that answers Pusher's auth format); else the guard of `authorize.topics`.
   */
  authorizationMiddleware(guard?: Guard<Request>): AuthorizationMiddleware {
    const authorize = this.config.authorize ?? {};
    let chosen = guard;
    if (chosen === undefined) {
      const defaultName = this.config.default !== undefined || (this.env[CONNECTION_ENV] ?? '') !== '' ? this.defaultConnection : undefined;
      const connection = defaultName !== undefined ? this.connection(defaultName) : undefined;
      chosen = isGuard(connection) ? connection : this.guard();
    }
    return new AuthorizationMiddleware(chosen, {
      ...(authorize.path !== undefined && { path: authorize.path }),
      ...(authorize.token !== undefined && { token: authorize.token }),
      ...(this.options.logger !== undefined && { logger: this.options.logger }),
      env: this.env,
    });
  }

  /** Closes the connections built so far that hold resources (API clients). */
  async close(): Promise<void> {
    const all = [...this.built.values()];
    this.built.clear();
    await Promise.all(all.map((b) => (b as { close?: () => Promise<void> }).close?.()));
  }
}

/** A topic registry from `authorize.topics`: a registry as is, or patterns → callbacks in order. */
export function topicRegistryOf(authorize: AuthorizeConfig | undefined): TopicRegistry<Request> | undefined {
  const topics = authorize?.topics;
  if (topics === undefined) return undefined;
  if (topics instanceof TopicRegistry) return topics;
  const registry = new TopicRegistry<Request>();
  for (const [pattern, callback] of Object.entries(topics)) {
    if (typeof callback !== 'function') throw new BroadcastConfigError(`authorize.topics["${pattern}"] must be a function`);
    try {
      registry.register(pattern, callback);
    } catch (e) {
      throw new BroadcastConfigError(`authorize.topics: ${(e as Error).message}`, undefined, undefined, { cause: e });
    }
  }
  return registry;
}
