#!/usr/bin/env node
/**
 * The `gyre` command line: serve, genconfig, gentoken, checkconfig, version.
 */
import cluster from 'node:cluster';
import { existsSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { signToken } from '../auth/sign.js';
import { ConfigError } from '../config/errors.js';
import { generateConfig } from '../config/generate.js';
import { loadConfig } from '../config/load.js';
import type { ConfigInput } from '../config/tree.js';
import type { GyreConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import type { GyreServer } from '../server.js';
import { VERSION } from '../version.js';
import { schemaCommand, schemaRefFor } from './schema.js';

/** The config file used when none is named. */
export const DEFAULT_CONFIG_FILE = 'config.json';

const USAGE = `Usage: gyre <command> [options]

Commands:
  serve [--config FILE] [--port N] [--workers N|auto] [--insecure] [--log-level L]
                         run the server (default config file: ./config.json, created if missing);
                         --workers: worker processes sharing the ports (0 = one process)
  genconfig [FILE]       write a starter config (fresh HMAC secret and API key, $schema for editors;
                         default ./config.json)
  gentoken --user ID [--ttl S] [--channel CH] [--info JSON] [--config FILE]
                         print a connection token (or a subscription token with --channel)
  checkconfig FILE       validate a config file (every problem is listed)
  schema [FILE]          print (or write to FILE) the JSON Schema of config files
  version                print the version
`;

function fail(message: string, code = 1): never {
  process.stderr.write(message.endsWith('\n') ? message : message + '\n');
  process.exit(code);
}

function load(file: string | undefined, overrides?: ConfigInput) {
  try {
    const result = loadConfig({ ...(file !== undefined && { file }), ...(overrides !== undefined && { overrides }) });
    for (const w of result.warnings) process.stderr.write(`warning: ${w}\n`);
    return result.config;
  } catch (e) {
    // One line per problem, each naming its key.
    if (e instanceof ConfigError) fail(e.problems.map((p) => `config error: ${p.message}`).join('\n'));
    throw e;
  }
}

function writeStarterConfig(file: string): void {
  const config = generateConfig({ schema: schemaRefFor(file) });
  writeFileSync(file, JSON.stringify(config, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
}

async function serve(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string', short: 'c' },
      port: { type: 'string', short: 'p' },
      insecure: { type: 'boolean' },
      'log-level': { type: 'string' },
      workers: { type: 'string', short: 'w' },
    },
  });
  let file = values.config;
  let created = false;
  if (file === undefined) {
    file = DEFAULT_CONFIG_FILE;
    if (!existsSync(file)) {
      writeStarterConfig(file);
      created = true;
    }
  } else if (!existsSync(file)) {
    fail(`config error: file not found: ${file}`);
  }
  const overrides: Record<string, unknown> = {};
  if (values.port !== undefined) {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`invalid --port: ${values.port}`);
    overrides['http_server'] = { port };
  }
  if (values.insecure === true) overrides['client'] = { insecure: true };
  if (values.workers !== undefined) {
    const w = values.workers === 'auto' ? 'auto' : Number(values.workers);
    if (w !== 'auto' && (!Number.isInteger(w) || w < 0)) fail(`invalid --workers: ${values.workers} (a number of processes, or auto)`);
    overrides['workers'] = w;
  }
  if (values['log-level'] !== undefined) overrides['log'] = { level: values['log-level'] };
  const config = load(file, overrides);
  // The server code loads only for `serve`, keeping the other commands quick.
  const [{ createLogger, reopenLogFiles }, { GyreServer: Server }] = await Promise.all([import('../log.js'), import('../server.js')]);
  const log = createLogger(config.log);
  if (cluster.isWorker) {
    const { runWorker } = await import('../workers/worker.js');
    const { WORKER_INDEX_ENV } = await import('../workers/primary.js');
    await runWorker({ config, log, index: Number(process.env[WORKER_INDEX_ENV] ?? '1') });
    return;
  }
  if (config.workers > 0) return servePrimary(config, log, file, created, reopenLogFiles);
  let server: GyreServer;
  try {
    server = new Server({ config, log });
  } catch (e) {
    fail(`cannot start: ${e instanceof Error ? e.message : String(e)}`);
  }
  const port = await server.listen();
  log.info({ port, config: file, engine: server.engine, node: server.node.name }, `Gyre ${VERSION} listening`);
  startupHints(config, log, file, created);
  stopOnSignals(log, 'shutting down', () => server.shutdown(), config.shutdown.timeout + 1000);
  reopenOnHangup(log, reopenLogFiles);
}

/**
 * SIGHUP reopens the log file (`log.file`, after logrotate moved it) and is passed on by `forward`
 * (to the workers); the configuration is not reloaded (a restart applies changes).
 */
function reopenOnHangup(log: Logger, reopenLogFiles: () => number, forward?: () => void): void {
  process.on('SIGHUP', () => {
    const files = reopenLogFiles();
    forward?.();
    log.info(
      { signal: 'SIGHUP' },
      `${files > 0 ? 'log file reopened' : 'nothing to reopen (logging to stdout)'}; the configuration is not reloaded on SIGHUP: restart to apply changes`,
    );
  });
}

/**
 * SIGTERM / SIGINT run `stop` once, then exit 0 (1 when it fails; 0 anyway after `forceAfterMs`).
 * A stray rejected promise is logged: it is a bug to fix, never a reason to drop every client.
 */
function stopOnSignals(log: Logger, message: string, stop: () => Promise<void>, forceAfterMs: number): void {
  let stopping = false;
  const onSignal = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, message);
    const force = setTimeout(() => {
      log.warn('shutdown timeout reached: exiting');
      process.exit(0);
    }, forceAfterMs);
    force.unref();
    stop().then(
      () => {
        log.info('stopped');
        log.flush?.();
        process.exit(0);
      },
      (e: unknown) => {
        log.error({ err: e }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('unhandledRejection', (reason: unknown) => {
    log.error({ err: reason }, 'unhandled promise rejection (server keeps running)');
  });
}

/** What the starter config's empty `client.allowed_origins` means, said where it is written. */
const ORIGINS_NOTE =
  'client.allowed_origins is [] there: only pages served from this server\'s own origin may connect; ' +
  'list the origins of your web app (e.g. ["https://app.example.com", "http://localhost:5173"]) to accept them';

function startupHints(config: GyreConfig, log: Logger, file: string, created: boolean): void {
  if (created) log.info(`created ${file} with a fresh HMAC secret and API key; ${ORIGINS_NOTE}`);
  else if (!config.client.insecure && config.client.allowed_origins.length === 0) {
    log.info('client.allowed_origins is empty: browser pages from other origins are refused (403); list their origins there to accept them');
  }
  if (config.client.insecure) {
    log.warn('INSECURE mode: clients connect without tokens and may use every channel; never use it in production');
  } else {
    log.info(
      `connect with a token: npx gyre gentoken --user 42 --config ${file}` +
        ' (or start in insecure mode for development: npm start -- --insecure)',
    );
  }
}

/** `serve` with `workers` > 0: this process is the primary; the workers run `serve` again. */
async function servePrimary(config: GyreConfig, log: Logger, file: string, created: boolean, reopenLogFiles: () => number): Promise<void> {
  const { Primary } = await import('../workers/primary.js');
  const primary = new Primary({ config, log, workers: config.workers });
  // The primary kills workers still there when shutdown.timeout is up: this is only a safety net.
  stopOnSignals(log, 'shutting down every worker', () => primary.stop(), config.shutdown.timeout + 5000);
  reopenOnHangup(log, reopenLogFiles, () => primary.signalWorkers('SIGHUP'));
  let ready;
  try {
    ready = await primary.start();
  } catch (e) {
    await primary.stop();
    fail(`cannot start: ${e instanceof Error ? e.message : String(e)}`);
  }
  log.info(
    { port: ready.port, config: file, engine: ready.engine, workers: config.workers, pid: process.pid },
    `Gyre ${VERSION} listening with ${config.workers} worker${config.workers === 1 ? '' : 's'}`,
  );
  startupHints(config, log, file, created);
}

function genconfig(args: string[]): void {
  const file = args[0] ?? DEFAULT_CONFIG_FILE;
  if (existsSync(file)) fail(`${file} exists already; not overwriting it`);
  writeStarterConfig(file);
  process.stdout.write(`wrote ${file}\n${ORIGINS_NOTE}\n`);
}

async function gentoken(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      user: { type: 'string', short: 'u' },
      ttl: { type: 'string' },
      channel: { type: 'string' },
      info: { type: 'string' },
      config: { type: 'string', short: 'c' },
    },
  });
  if (values.user === undefined) fail('gentoken: --user is required (use --user "" for an anonymous token)');
  const file = values.config ?? DEFAULT_CONFIG_FILE;
  if (!existsSync(file)) fail(`gentoken: config file not found: ${file} (create one with: gyre genconfig)`);
  const config = load(file);
  const secret = config.client.token.hmac_secret_key;
  if (secret === '') fail('gentoken: client.token.hmac_secret_key is not set in the config');
  const ttl = values.ttl === undefined ? 3600 : Number(values.ttl);
  if (!Number.isInteger(ttl) || ttl < 0) fail(`invalid --ttl: ${values.ttl}`);
  const claims: Record<string, unknown> = { sub: values.user };
  if (values.channel !== undefined) claims['channel'] = values.channel;
  if (values.info !== undefined) {
    try {
      claims['info'] = JSON.parse(values.info) as unknown;
    } catch {
      fail('gentoken: --info must be JSON');
    }
  }
  const subSecret = config.client.subscription_token.enabled ? config.client.subscription_token.hmac_secret_key : secret;
  const token = await signToken(claims, {
    hmacSecret: values.channel !== undefined && subSecret !== '' ? subSecret : secret,
    ...(ttl > 0 && { ttlSeconds: ttl }),
  });
  process.stdout.write(token + '\n');
}

function checkconfig(args: string[]): void {
  const file = args[0];
  if (file === undefined) fail('checkconfig: a FILE is required');
  if (!existsSync(file)) fail(`config error: file not found: ${file}`);
  load(file);
  process.stdout.write(`${file}: OK\n`);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'genconfig':
      return genconfig(rest);
    case 'gentoken':
      return gentoken(rest);
    case 'checkconfig':
      return checkconfig(rest);
    case 'schema':
      return schemaCommand(rest);
    case 'version':
    case '--version':
      process.stdout.write(`gyre ${VERSION}\n`);
      return;
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(USAGE);
      return;
    default:
      fail(`unknown command: ${command}\n\n${USAGE}`, 2);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  if (e instanceof Error && 'code' in e && typeof e.code === 'string' && e.code.startsWith('ERR_PARSE_ARGS')) {
    fail(`${e.message}\n\n${USAGE}`, 2);
  }
  if (e instanceof Error && 'code' in e && e.code === 'EADDRINUSE') fail(`cannot listen: ${e.message}`);
  fail(`gyre: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
});
