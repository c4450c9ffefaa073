/** The `prometheus` config section: typed now (no "not supported yet" warning), its defaults, env and bad input. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { validateConfig } from '../../src/config/validate.js';
import { rejectsConfig } from '../helpers/config.js';

const rejects = rejectsConfig;

test('defaults: disabled, at /metrics', () => {
  assert.deepEqual(validateConfig({}).config.prometheus, { enabled: false, handler_prefix: '/metrics' });
});

test('the section is read without a warning; Centrifugo keys Gyre does not act on are accepted with one', () => {
  const { config, warnings } = validateConfig({ prometheus: { enabled: true, handler_prefix: '/prom' } });
  assert.deepEqual(warnings, []);
  assert.deepEqual(config.prometheus, { enabled: true, handler_prefix: '/prom' });
  const extra = validateConfig({ prometheus: { enabled: true, instrument_http_handlers: true } });
  assert.equal(extra.config.prometheus.enabled, true);
  assert.ok(extra.warnings.some((w) => w.includes('instrument_http_handlers')), extra.warnings.join('\n'));
});

test('from the environment: CENTRIFUGO_PROMETHEUS_ENABLED and GYRE_PROMETHEUS_HANDLER_PREFIX', () => {
  const { config } = loadConfig({ env: { CENTRIFUGO_PROMETHEUS_ENABLED: 'true', GYRE_PROMETHEUS_HANDLER_PREFIX: '/m' } });
  assert.deepEqual(config.prometheus, { enabled: true, handler_prefix: '/m' });
});

test('bad prometheus settings name the key', () => {
  rejects({ prometheus: { handler_prefix: 'metrics' } }, 'prometheus.handler_prefix', /must start with "\/"/);
  rejects({ prometheus: { enabled: true, handler_prefix: '/health' }, health: { enabled: true } }, 'prometheus.handler_prefix', /must differ from health\.handler_prefix/);
  rejects({ prometheus: { enabled: true, handler_prefix: '/api' } }, 'prometheus.handler_prefix', /must differ from http_api\.handler_prefix/);
  rejects({ prometheus: { enabled: 'yes' } }, 'prometheus.enabled', /boolean/);
  // A disabled endpoint hides nothing.
  assert.equal(validateConfig({ prometheus: { handler_prefix: '/api' } }).config.prometheus.handler_prefix, '/api');
});
