/**
 * The broadcast manager: the default connection (config, BROADCAST_CONNECTION over it), named
 * connections and aliases, built once and reused, custom drivers by alias, the log and null
 * drivers, and a clear BroadcastConfigError for everything that cannot work.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import {
  AbstractBroadcast,
  BroadcastConfigError,
  BroadcastError,
  BroadcastManager,
  HttpBroadcast,
  LogBroadcast,
  NullBroadcast,
  type Broadcast,
  type BroadcastMessage,
  type BroadcastingConfig,
  type DriverFactoryContext,
} from '../../src/broadcasting/index.js';

/** A pino logger writing its lines into an array. */
function capture(level = 'trace'): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level }, sink), lines };
}

/** A driver recording what it sends, with the options and context it was built with. */
class Memory extends AbstractBroadcast {
  static built = 0;
  sent: Array<{ topics: string[]; data: unknown[] }> = [];
  closed = false;
  constructor(
    readonly options: Record<string, unknown>,
    readonly context: DriverFactoryContext,
  ) {
    super(context);
    Memory.built++;
  }
  protected async send(topics: readonly string[], messages: readonly BroadcastMessage[]): Promise<void> {
    this.sent.push({ topics: [...topics], data: messages.map((m) => m.data) });
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

const BASE: BroadcastingConfig = {
  default: 'log',
  connections: {
    log: { driver: 'log' },
    null: { driver: 'null' },
    memory: { driver: 'memory', flavour: 'vanilla' },
  },
  aliases: { quiet: 'null', silent: 'quiet' },
  driverAliases: { memory: Memory },
};

function manager(config: Partial<BroadcastingConfig> = {}, env: Record<string, string | undefined> = {}): BroadcastManager {
  return new BroadcastManager({ ...BASE, ...config }, { env, logger: capture().logger });
}

function configError(fn: () => unknown, pattern: RegExp): BroadcastConfigError {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof BroadcastConfigError, `expected a BroadcastConfigError, got ${String(error)}`);
  assert.match(error.message, pattern);
  return error;
}

describe('connections', () => {
  test('the default connection comes from the config', () => {
    const m = manager();
    assert.equal(m.defaultConnection, 'log');
    assert.ok(m.connection() instanceof LogBroadcast);
  });

  test('BROADCAST_CONNECTION overrides the config; an empty one does not', () => {
    assert.equal(manager({}, { BROADCAST_CONNECTION: 'null' }).defaultConnection, 'null');
    assert.ok(manager({}, { BROADCAST_CONNECTION: 'null' }).connection() instanceof NullBroadcast);
    assert.equal(manager({}, { BROADCAST_CONNECTION: '' }).defaultConnection, 'log');
    // with no default in the config, the variable alone decides
    const { default: _d, ...noDefault } = BASE;
    assert.equal(new BroadcastManager(noDefault, { env: { BROADCAST_CONNECTION: 'memory' } }).defaultConnection, 'memory');
  });

  test('process.env is read when no env is given', () => {
    const saved = process.env['BROADCAST_CONNECTION'];
    process.env['BROADCAST_CONNECTION'] = 'null';
    try {
      assert.equal(new BroadcastManager(BASE).defaultConnection, 'null');
    } finally {
      if (saved === undefined) delete process.env['BROADCAST_CONNECTION'];
      else process.env['BROADCAST_CONNECTION'] = saved;
    }
  });

  test('connections are built once and reused, aliases included', () => {
    const m = manager();
    const before = Memory.built;
    const a = m.connection('memory');
    assert.equal(m.connection('memory'), a);
    assert.equal(Memory.built - before, 1);
    assert.equal(m.connection('silent'), m.connection('null'));
    assert.equal(m.connection('quiet'), m.connection('null'));
  });

  test('a driver gets its options (without "driver") and its context', () => {
    const m = manager();
    const mem = m.connection('memory') as Memory;
    assert.deepEqual(mem.options, { flavour: 'vanilla' });
    assert.equal(mem.context.connection, 'memory');
    assert.equal(mem.context.driver, 'memory');
    assert.equal(mem.connection, 'memory');
    assert.equal(mem.driver, 'memory');
  });

  test('manager.publish goes to the default connection', async () => {
    const m = manager({ default: 'memory' });
    await m.publish(['a', 'b'], [{ n: 1 }, 'two']);
    assert.deepEqual((m.connection('memory') as Memory).sent, [{ topics: ['a', 'b'], data: [{ n: 1 }, 'two'] }]);
  });

  test('close() closes the connections built so far', async () => {
    const m = manager();
    const mem = m.connection('memory') as Memory;
    await m.close();
    assert.equal(mem.closed, true);
    assert.notEqual(m.connection('memory'), mem, 'rebuilt after close');
  });
});

describe('drivers', () => {
  test('custom drivers: extend() with a factory function, winning over aliases and built-ins', async () => {
    const seen: Array<{ options: unknown; context: DriverFactoryContext }> = [];
    const sent: string[] = [];
    const m = manager({ connections: { pusher: { driver: 'pusher', appId: 'app' }, log: { driver: 'log' } } });
    m.extend('pusher', (options, context) => {
      seen.push({ options, context });
      return { publish: async (topics) => void sent.push(String(topics)) } satisfies Broadcast;
    });
    await m.connection('pusher').publish('orders', 'x');
    assert.deepEqual(seen[0]!.options, { appId: 'app' });
    assert.equal(seen[0]!.context.connection, 'pusher');
    assert.equal(seen[0]!.context.driver, 'pusher');
    assert.deepEqual(sent, ['orders']);
    m.extend('log', (_o, c) => new Memory({}, c));
    assert.ok(m.connection('log') instanceof Memory);
  });

  test('a driver class or function right in the connection, and driver aliases to other names', () => {
    const m = manager({
      connections: {
        cls: { driver: NullBroadcast },
        fn: { driver: function custom(_o: unknown, c: DriverFactoryContext) { return new Memory({}, c); } },
        centrifugo: { driver: 'centrifugo', url: 'http://127.0.0.1:1/api', apiKey: 'k' },
      },
      driverAliases: { centrifugo: 'http' },
    });
    const cls = m.connection('cls') as NullBroadcast;
    assert.ok(cls instanceof NullBroadcast);
    assert.equal(cls.driver, 'NullBroadcast');
    assert.equal((m.connection('fn') as Memory).driver, 'custom');
    const http = m.connection('centrifugo') as HttpBroadcast;
    assert.ok(http instanceof HttpBroadcast);
    assert.equal(http.driver, 'centrifugo');
  });

  test('log: one structured line per message, at the configured level', async () => {
    const { logger, lines } = capture();
    const m = new BroadcastManager(
      { default: 'log', connections: { log: { driver: 'log' }, debug: { driver: 'log', level: 'debug' } } },
      { env: {}, logger },
    );
    await m.publish(['order.1', 'order.2'], [{ status: 'purchased' }, 'second']);
    await m.connection('debug').publish('t', 1);
    assert.deepEqual(
      lines.map((l) => [l['level'], l['msg'], l['connection'], l['topics'], l['data']]),
      [
        [30, 'broadcast', 'log', ['order.1', 'order.2'], { status: 'purchased' }],
        [30, 'broadcast', 'log', ['order.1', 'order.2'], 'second'],
        [20, 'broadcast', 'debug', ['t'], 1],
      ],
    );
  });

  test('log: its own logger option wins', async () => {
    const own = capture();
    const m = new BroadcastManager({ default: 'log', connections: { log: { driver: 'log', level: 'warn', logger: own.logger } } }, { env: {} });
    await m.publish('t', 'x');
    assert.equal(own.lines.length, 1);
    assert.equal(own.lines[0]!['level'], 40);
  });

  test('null: sends nothing, still checks its arguments', async () => {
    const m = manager();
    await m.connection('null').publish('t', { a: 1 });
    await assert.rejects(m.connection('null').publish([], 'x'), (e: BroadcastError) => e instanceof BroadcastError && e.connection === 'null' && e.driver === 'null');
  });
});

describe('configuration errors', () => {
  test('no default connection', () => {
    const { default: _d, ...noDefault } = BASE;
    const m = new BroadcastManager(noDefault, { env: {} });
    configError(() => m.connection(), /no default broadcast connection: set "default" in the broadcasting config or BROADCAST_CONNECTION/);
    return assert.rejects(m.publish('t', 'x'), BroadcastConfigError);
  });

  test('an undefined connection, directly, by default or through an alias', () => {
    const e = configError(() => manager().connection('nope'), /broadcast connection "nope" is not defined; connections: log, null, memory; aliases: quiet, silent/);
    assert.equal(e.connection, 'nope');
    configError(() => manager({}, { BROADCAST_CONNECTION: 'typo' }).connection(), /"typo" is not defined/);
    configError(() => manager({ aliases: { a: 'b' } }).connection('a'), /"b" is not defined \(via alias "a"\)/);
    configError(() => manager({ aliases: { a: 'b', b: 'a' } }).connection('a'), /aliases form a cycle: a → b → a/);
  });

  test('an undefined driver', () => {
    const e = configError(
      () => manager({ connections: { x: { driver: 'pusher' } } }).connection('x'),
      /broadcast connection "x": driver "pusher" is not defined; built-in drivers: null, log, local, http, grpc; registered: memory \(register a custom driver with driverAliases or manager.extend\(\)\)/,
    );
    assert.equal(e.driver, 'pusher');
    configError(() => manager({ connections: { x: {} as never } }).connection('x'), /"x" has no driver/);
    configError(() => manager({ connections: { x: { driver: 'a' } }, driverAliases: { a: 'b', b: 'a' } }).connection('x'), /driver aliases form a cycle/);
  });

  test('a driver that throws or makes no Broadcast; a failed build is not cached', () => {
    let fail = true;
    const m = manager({
      connections: {
        flaky: {
          driver: () => {
            if (fail) throw new Error('cannot connect');
            return new NullBroadcast();
          },
        },
        junk: { driver: () => ({}) as Broadcast },
      },
    });
    const e = configError(() => m.connection('flaky'), /broadcast connection "flaky" \(driver "driver"\): cannot connect/);
    assert.ok(e.cause instanceof Error);
    fail = false;
    assert.ok(m.connection('flaky') instanceof NullBroadcast);
    configError(() => m.connection('junk'), /did not make a Broadcast/);
  });

  test('bad built-in driver options', () => {
    const cases: Array<[string, Record<string, unknown>, RegExp, string]> = [
      ['h', { driver: 'http' }, /broadcast connection "h": url is required/, 'http'],
      ['h', { driver: 'http', url: 'nope' }, /"h": url: not a valid URL/, 'http'],
      ['h', { driver: 'http', url: 'http://x', timeout: 'soon' }, /timeout: unknown unit "soon"/, 'http'],
      ['h', { driver: 'http', url: 'http://x', skipHistory: 'no' }, /skipHistory must be a boolean/, 'http'],
      ['h', { driver: 'http', url: 'http://x', tags: { a: 1 } }, /tags.a must be a string/, 'http'],
      ['l', { driver: 'local' }, /"l": gyre must be a Gyre/, 'local'],
      ['l', { driver: 'log', level: 'loud' }, /log level must be one of trace, debug, info, warn, error, fatal/, 'log'],
      ['g', { driver: 'grpc' }, /"g": address is required/, 'grpc'],
    ];
    for (const [name, connection, pattern, driver] of cases) {
      const m = manager({ connections: { [name]: connection as never, log: { driver: 'log' } } });
      const e = configError(() => m.connection(name), pattern);
      // The error names the connection and the driver it was built with.
      assert.equal(e.connection, name, `connection of ${pattern}`);
      assert.equal(e.driver, driver, `driver of ${pattern}`);
      // A failed build is not cached: asking again fails again, the same way.
      assert.match(configError(() => m.connection(name), pattern).message, pattern);
      // Other connections of the same manager are not affected.
      assert.ok(m.connection('log') instanceof LogBroadcast);
    }
  });

  test('a config without connections', () => {
    assert.throws(() => new BroadcastManager({} as BroadcastingConfig), /needs "connections"/);
  });

  test('extend() needs a name and a factory', () => {
    const m = manager({ connections: { log: { driver: 'log' }, x: { driver: 'x' } } });
    const noName = configError(() => m.extend('', () => new NullBroadcast()), /extend: the driver name must be a non-empty string/);
    assert.equal(noName.driver, undefined);
    assert.equal(noName.connection, undefined);
    const noFactory = configError(() => m.extend('x', 'nope' as never), /extend: the driver "x" needs a factory function or a driver class/);
    assert.equal(noFactory.driver, 'x');
    // A refused extend() registers nothing: "x" is still an undefined driver, "log" still the built-in.
    assert.equal(configError(() => m.connection('x'), /driver "x" is not defined/).driver, 'x');
    configError(() => m.extend('log', 42 as never), /needs a factory function/);
    assert.ok(m.connection('log') instanceof LogBroadcast);
    // A valid extend() on the same manager then works.
    assert.equal(m.extend('x', () => new NullBroadcast()), m);
    assert.ok(m.connection('x') instanceof NullBroadcast);
  });
});
