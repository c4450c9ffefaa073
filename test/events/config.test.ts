/** The `events` config section, and listeners loaded from modules named in it. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { validateConfig } from '../../src/config/validate.js';
import { GyreServer } from '../../src/server.js';
import { startEvents } from './helpers.js';
import { rejectsConfig } from '../helpers/config.js';

const FIXTURE = './test/events/fixtures/listeners.ts';

const rejects = rejectsConfig;

test('defaults: disabled, /connection/events on the main port, 64 KiB frames, 25s pings, no listeners', () => {
  assert.deepEqual(validateConfig({}).config.events, {
    enabled: false,
    handler_prefix: '/connection/events',
    address: '',
    port: 0,
    message_size_limit: 65_536,
    ping_interval: 25_000,
    listeners: [],
    hooks: [],
  });
});

test('listeners "EVENT=module[#export]" become typed specs', () => {
  const { config, warnings } = validateConfig({
    events: { enabled: true, port: 8079, address: '127.0.0.1', ping_interval: '10s', listeners: ['TEST=./l.js', ' PING = pkg/ping#onPing ', 'SUB=#imports/sub.js'] },
  });
  assert.deepEqual(warnings, []);
  assert.deepEqual(config.events.listeners, [
    { event: 'TEST', module: './l.js', export: 'default' },
    { event: 'PING', module: 'pkg/ping', export: 'onPing' },
    { event: 'SUB', module: '#imports/sub.js', export: 'default' },
  ]);
  assert.equal(config.events.port, 8079);
  assert.equal(config.events.ping_interval, 10_000);
});

test('bad events settings name the key', () => {
  rejects({ events: { listeners: ['TEST'] } }, 'events.listeners[0]', /expected "EVENT=module"/);
  rejects({ events: { listeners: ['=./x.js'] } }, 'events.listeners[0]', /expected "EVENT=module"/);
  rejects({ events: { listeners: ['A=./a.js', 'B='] } }, 'events.listeners[1]', /expected "EVENT=module"/);
  rejects({ events: { listeners: 'A=./a.js' } }, 'events.listeners', /array of strings/);
  rejects({ events: { handler_prefix: 'events' } }, 'events.handler_prefix', /must start with "\/"/);
  rejects({ events: { enabled: true, handler_prefix: '/connection/websocket' } }, 'events.handler_prefix', /must differ/);
  rejects({ events: { port: 70000 } }, 'events.port', /0\.\.65535/);
  rejects({ events: { enabled: 'yes' } }, 'events.enabled', /boolean/);
});

test('the events section comes from the environment too', () => {
  const { config } = loadConfig({
    env: { GYRE_EVENTS_ENABLED: 'true', GYRE_EVENTS_PORT: '8079', GYRE_EVENTS_LISTENERS: 'A=./a.js,B=./b.js#b' },
  });
  assert.equal(config.events.enabled, true);
  assert.equal(config.events.port, 8079);
  assert.deepEqual(config.events.listeners, [
    { event: 'A', module: './a.js', export: 'default' },
    { event: 'B', module: './b.js', export: 'b' },
  ]);
});

test('listeners named in the config are loaded at start and serve', async () => {
  const gyre = await startEvents({ events: { listeners: [`PING=${FIXTURE}`, `HELLO=${FIXTURE}#greeter`] } });
  try {
    const s = await gyre.socket();
    s.emit('PING', { n: 1 });
    assert.deepEqual(await s.next(), { event: 'PONG', data: { n: 1 } });
    s.emit('HELLO', 'you');
    assert.deepEqual(await s.next(), { event: 'GREETING', data: { hello: 'you' } });
  } finally {
    await gyre.close();
  }
});

test('a listener module that is missing or exports no listener fails the start, naming the entry', async () => {
  for (const [entry, pattern] of [
    ['PING=./test/events/fixtures/nope.ts', /events\.listeners\[0\] \(PING=.*nope\.ts\): cannot import the module/],
    [`PING=${FIXTURE}#notAListener`, /events\.listeners\[0\] .*: export "notAListener" is not a listener/],
    [`PING=${FIXTURE}#absent`, /events\.listeners\[0\] .*: export "absent" is missing/],
  ] as const) {
    const { config } = validateConfig({ log: { level: 'none' }, events: { enabled: true, listeners: [entry] } });
    const server = new GyreServer({ config });
    await assert.rejects(server.listen(0, '127.0.0.1'), pattern);
    await server.shutdown();
  }
});

test('hooks named in the config run (start_worker at listen); a missing module or a non-function export fails the start, naming the entry', async () => {
  const { hookCalls } = await import('./fixtures/listeners.js');
  const before = hookCalls.length;
  const { config } = validateConfig({ log: { level: 'none' }, events: { enabled: true, hooks: [`start_worker=${FIXTURE}#onStartWorker`] } });
  const ok = new GyreServer({ config });
  await ok.listen(0, '127.0.0.1');
  await ok.shutdown();
  assert.equal(hookCalls.length, before + 1);
  assert.equal(hookCalls[before]!.hook, 'start_worker');
  assert.equal((hookCalls[before]!.event as { nodeId: string }).nodeId, ok.node.id);
  for (const [entry, pattern] of [
    ['start_worker=./test/events/fixtures/nope.ts', /events\.hooks\[0\] \(start_worker=.*nope\.ts\): cannot import the module/],
    [`start_worker=${FIXTURE}#notAListener`, /events\.hooks\[0\] .*: export "notAListener" is not a function/],
  ] as const) {
    const bad = validateConfig({ log: { level: 'none' }, events: { enabled: true, hooks: [entry] } }).config;
    const server = new GyreServer({ config: bad });
    await assert.rejects(server.listen(0, '127.0.0.1'), pattern);
    await server.shutdown();
  }
});
