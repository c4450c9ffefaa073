/**
 * The `gyre` command line, run as a real child process in an empty temporary directory:
 * version, genconfig, gentoken, checkconfig, serve, and their bad input.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { before, describe, test } from 'node:test';
import { TokenVerifier } from '../../src/auth/verifier.js';
import { loadConfig } from '../../src/config/load.js';
import { VERSION } from '../../src/version.js';
import { deadline, withTimeout } from '../helpers/wait.js';
import { gyre, run, RUN_WAIT_MS, tempDir } from './run-cli.js';

const PACKAGE = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** A temp dir holding a config written by `gyre genconfig`; returns the dir and the file. */
async function generated(): Promise<{ dir: string; file: string }> {
  const dir = tempDir();
  const res = await run(['genconfig', 'config.json'], dir);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /^wrote config\.json\nclient\.allowed_origins is \[\] there: only pages served from this server's own origin may connect; list the origins of your web app/);
  return { dir, file: join(dir, 'config.json') };
}

/** Two configs written by `gyre genconfig` (each spawn costs, so the tests share them read-only). */
let gen: { dir: string; file: string };
let otherGen: { dir: string; file: string };
before(async () => {
  [gen, otherGen] = await Promise.all([generated(), generated()]);
});

/** The token verifier of a config file (its `client.token` settings). */
function verifierFor(file: string): TokenVerifier {
  const { config } = loadConfig({ file, env: {} });
  return new TokenVerifier(config.client.token, config.client.subscription_token);
}

function payloadOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
}

/** Writes `content` as JSON into a fresh temp dir; returns the dir and the file. */
function configFile(content: unknown): { dir: string; file: string } {
  const dir = tempDir();
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(content));
  return { dir, file };
}

describe('gyre CLI', { concurrency: 4 }, () => {
  test('version prints the package version', async () => {
    const res = await run(['version']);
    assert.equal(res.code, 0);
    assert.equal(res.stdout, `gyre ${PACKAGE.version}\n`);
    assert.equal(VERSION, PACKAGE.version);
  });

  test('an unknown command exits 2 with the usage', async () => {
    const res = await run(['frobnicate']);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /unknown command: frobnicate/);
    assert.match(res.stderr, /Usage: gyre/);
  });

  test('an unknown option exits 2', async () => {
    const res = await run(['gentoken', '--user', '42', '--colour', 'red']);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /colour/);
  });

  test('genconfig writes a config that checkconfig accepts, with fresh secrets, and never overwrites it', async () => {
    const { dir, file } = gen;
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const check = await run(['checkconfig', 'config.json'], dir);
    assert.equal(check.code, 0, check.stderr);
    assert.equal(check.stdout, 'config.json: OK\n');
    assert.equal(check.stderr, '');
    const { config } = loadConfig({ file, env: {} });
    assert.ok(config.client.token.hmac_secret_key.length >= 32);
    assert.ok(config.http_api.key.length >= 32);

    const before = readFileSync(file, 'utf8');
    const again = await run(['genconfig', 'config.json'], dir);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /exists already/);
    assert.equal(readFileSync(file, 'utf8'), before);

    assert.notEqual(loadConfig({ file: otherGen.file, env: {} }).config.client.token.hmac_secret_key, config.client.token.hmac_secret_key);
  });

  test('gentoken --user prints a connection token signed with the config key, expiring in the future', async () => {
    const { dir, file } = gen;
    const res = await run(['gentoken', '--user', '42', '--config', 'config.json'], dir);
    assert.equal(res.code, 0, res.stderr);
    const token = res.stdout.trim();
    assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    const claims = await verifierFor(file).verifyConnectToken(token);
    assert.equal(claims.user, '42');
    const nowSec = Math.floor(Date.now() / 1000);
    assert.ok(claims.expireAt !== undefined && claims.expireAt > nowSec);
    assert.equal(payloadOf(token)['exp'], claims.expireAt);

    // Another config's key does not verify it.
    await assert.rejects(verifierFor(otherGen.file).verifyConnectToken(token), { name: 'InvalidTokenError' });
  });

  test('gentoken --channel prints a subscription token for that channel', async () => {
    const { dir, file } = gen;
    const res = await run(['gentoken', '--user', '42', '--channel', 'news', '--config', 'config.json'], dir);
    assert.equal(res.code, 0, res.stderr);
    const token = res.stdout.trim();
    const verifier = verifierFor(file);
    const claims = await verifier.verifySubscribeToken(token);
    assert.equal(claims.channel, 'news');
    assert.equal(claims.user, '42');
    await assert.rejects(verifier.verifyConnectToken(token), { name: 'InvalidTokenError' });
  });

  test('gentoken --info puts the JSON into the info claim', async () => {
    const { dir, file } = gen;
    const res = await run(['gentoken', '--user', '42', '--info', '{"a":1}', '--config', 'config.json'], dir);
    assert.equal(res.code, 0, res.stderr);
    const claims = await verifierFor(file).verifyConnectToken(res.stdout.trim());
    assert.deepEqual(JSON.parse(claims.info!), { a: 1 });
  });

  test('gentoken refuses bad input', async () => {
    const { dir } = gen;
    const cases: Array<{ args: string[]; stderr: RegExp }> = [
      { args: ['gentoken', '--config', 'config.json'], stderr: /--user is required/ },
      { args: ['gentoken', '--user', '42', '--info', '{a:1}', '--config', 'config.json'], stderr: /--info must be JSON/ },
      { args: ['gentoken', '--user', '42', '--config', 'missing.json'], stderr: /config file not found/ },
    ];
    const results = await Promise.all(cases.map((c) => run(c.args, dir)));
    results.forEach((res, i) => {
      assert.notEqual(res.code, 0, cases[i]!.args.join(' '));
      assert.equal(res.stdout, '');
      assert.match(res.stderr, cases[i]!.stderr);
    });
  });

  test('checkconfig with a value of the wrong type exits non-zero naming the key', async () => {
    const { dir } = configFile({ client: { insecure: 'yes' } });
    const res = await run(['checkconfig', 'config.json'], dir);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /client\.insecure/);
    assert.equal(res.stdout, '');
  });

  test('checkconfig with an unknown key warns naming it (and the nearest known one) and exits 0', async () => {
    const { dir } = configFile({ client: { ping_intervall: '10s' } });
    const res = await run(['checkconfig', 'config.json'], dir);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /warning: .*"client\.ping_intervall".*"client\.ping_interval"/);
    assert.equal(res.stdout, 'config.json: OK\n');
  });

  test('checkconfig with a missing file exits non-zero', async () => {
    const missing = await run(['checkconfig', 'nope.json']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /file not found: nope\.json/);
  });

  test('serve with an invalid config exits non-zero before listening', async () => {
    const { dir } = configFile({ http_server: { port: 'abc' } });
    const res = await run(['serve', '--config', 'config.json'], dir);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /http_server\.port/);
    assert.doesNotMatch(res.stdout, /listening/);
  });

  test('serve with a bad --port exits non-zero before listening', async () => {
    const { dir } = gen;
    const res = await run(['serve', '--config', 'config.json', '--port', 'eighty'], dir);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /invalid --port/);
    assert.doesNotMatch(res.stdout, /listening/);
  });

  test('serve without --config in an empty directory creates config.json and listens', async () => {
    const dir = tempDir();
    const child = gyre(['serve', '--port', '0'], dir);
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    const lines: Array<Record<string, unknown>> = [];
    const port = await deadline<number>(
      RUN_WAIT_MS,
      () => {
        child.kill('SIGKILL');
        return `"gyre serve" did not log "listening" within ${RUN_WAIT_MS} ms`;
      },
      (resolve, reject) => {
        createInterface({ input: child.stdout }).on('line', (text) => {
          const line = JSON.parse(text) as Record<string, unknown>;
          lines.push(line);
          if (/^Gyre .* listening$/.test(String(line['msg']))) resolve(line['port'] as number);
        });
        void exited.then((code) => reject(new Error(`serve exited (${code}) before listening`)));
      },
    );
    try {
      const { config, warnings } = loadConfig({ file: join(dir, 'config.json'), env: {} });
      assert.deepEqual(warnings, []);
      assert.notEqual(config.client.token.hmac_secret_key, '');
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      assert.equal(res.status, 200);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await withTimeout(exited, undefined, 'serve', '"gyre serve" did not exit after SIGTERM'), 0);
    assert.ok(lines.some((l) => /^created config\.json/.test(String(l['msg']))), 'the creation is logged');
  });
});
