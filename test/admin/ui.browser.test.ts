/**
 * The admin web UI in a real headless Chromium against a real Gyre: the wrong password is refused,
 * a login, an SDK client showing up live on the overview and in the (filtered) channels list,
 * publishing from a channel's page to that client, the live tap showing a server API publication,
 * disconnecting the user from the Actions page, and the overview and navigation at phone width;
 * under a handler_prefix, insecure mode without a login, and the lock-out after repeated wrong
 * passwords. No Content-Security-Policy violation and no page error along the way.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { Centrifuge, PublicationContext, Subscription } from 'centrifuge';
import type { BrowserContext, ConsoleMessage, Locator, Page } from 'playwright-core';
import { FREE_FAILURES } from '../../src/admin/login-throttle.js';
import { browserTest, launchBrowser, screenshotPath, type TestBrowser } from '../helpers/browser.js';
import { once, startGyre, until, type TestGyre } from '../helpers/gyre.js';

const PASSWORD = 'pw-test';
const CHANNEL = 'room';
const USER = 'alice';
/** Bound of every wait on the page (ms). */
const UI_WAIT = 10_000;

/** Waits until `locator` is visible; fails with `what` after {@link UI_WAIT}. */
async function shows(locator: Locator, what: string, timeoutMs = UI_WAIT): Promise<void> {
  try {
    await locator.first().waitFor({ state: 'visible', timeout: timeoutMs });
  } catch (err) {
    const detail = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
    throw new Error(`the page did not show ${what} within ${timeoutMs} ms (${detail})`);
  }
}

/** A page of a context that records page errors and CSP violations. */
async function openPage(context: BrowserContext, url: string, problems: string[]): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg: ConsoleMessage) => {
    if (msg.type() === 'error' && /Content Security Policy|Refused to/i.test(msg.text())) problems.push(`CSP: ${msg.text()}`);
  });
  await page.goto(url, { timeout: UI_WAIT });
  return page;
}

async function logIn(page: Page): Promise<void> {
  await shows(page.getByTestId('login'), 'the login page');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByTestId('login-submit').click();
  await shows(page.getByTestId('overview'), 'the overview after logging in');
}

/** A connected SDK client of user alice subscribed to the channel, recording what it receives. */
async function sdkClient(gyre: TestGyre): Promise<{ client: Centrifuge; sub: Subscription; received: unknown[]; id: string }> {
  const client = gyre.client({ token: await gyre.token(USER) });
  const sub = client.newSubscription(CHANNEL);
  const received: unknown[] = [];
  sub.on('publication', (ctx: PublicationContext) => received.push(ctx.data));
  const connected = once<{ client: string }>(client, 'connected', 'the SDK client connects');
  const subscribed = once(sub, 'subscribed', `the SDK client subscribes to ${CHANNEL}`);
  sub.subscribe();
  client.connect();
  const { client: id } = await connected;
  await subscribed;
  return { client, sub, received, id };
}

/** A Gyre with admin on (`admin` overrides its keys), closed after the test. */
async function adminGyre(t: TestContext, admin: Record<string, unknown> = {}): Promise<TestGyre> {
  const gyre = await startGyre({ log: { level: 'warn' }, admin: { enabled: true, password: PASSWORD, secret: 'admin-secret', ...admin } });
  t.after(() => gyre.close());
  return gyre;
}

async function setUp(t: TestContext): Promise<{ gyre: TestGyre; browser: TestBrowser; problems: string[] }> {
  const gyre = await adminGyre(t);
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const problems: string[] = [];
  return { gyre, browser, problems };
}

browserTest('admin UI: login, live overview, channels, publish, tap, actions', async (t) => {
  const { gyre, browser, problems } = await setUp(t);
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await openPage(context, `${gyre.baseUrl}/`, problems);

  // A wrong password is refused with the server's message, and no token is kept.
  await shows(page.getByTestId('login'), 'the login page');
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByTestId('login-submit').click();
  await shows(page.getByTestId('login-error').filter({ hasText: 'wrong password' }), 'the "wrong password" message');
  assert.equal(await page.evaluate(() => localStorage.length), 0, 'no token stored after a wrong password');

  await logIn(page);
  await shows(page.getByTestId('node-row'), 'a row in the nodes table');
  await shows(page.getByTestId('total-clients').filter({ hasText: /^0$/ }), '0 clients before the SDK connects');
  // Set on the page now: still there after the live update, so the page was not reloaded.
  await page.evaluate(() => {
    (globalThis as { gyreTestMarker?: number }).gyreTestMarker = 42;
  });

  const sdk = await sdkClient(gyre);
  await shows(page.getByTestId('total-clients').filter({ hasText: /^1$/ }), 'the overview updating live to 1 client');
  await shows(page.getByTestId('node-clients').filter({ hasText: /^1$/ }), "the node's row updating to 1 client");
  assert.equal(await page.evaluate(() => (globalThis as { gyreTestMarker?: number }).gyreTestMarker), 42, 'the overview updated without a reload');
  await page.screenshot({ path: screenshotPath('admin-ui-overview') });

  // The channels list shows the channel with its subscriber, and links to its page.
  await page.getByTestId('nav-channels').click();
  const row = page.locator(`[data-testid="channel-row"][data-channel="${CHANNEL}"]`);
  await shows(row.filter({ has: page.getByTestId('channel-subscribers').filter({ hasText: /^1$/ }) }), `channel "${CHANNEL}" with 1 subscriber in the channels list`);
  // Filtering: a substring here, a glob pattern on the server.
  await page.getByLabel('Filter (contains)').fill('zzz');
  await shows(page.getByTestId('channels-table').filter({ hasText: 'No channel matches the filter.' }), 'no channel for filter "zzz"');
  await page.getByLabel('Filter (contains)').fill('oo');
  await shows(row, `channel "${CHANNEL}" for filter "oo"`);
  await page.getByLabel('Pattern (on the server)').fill('other:*');
  await page.getByTestId('channels-pattern-apply').click();
  await shows(page.getByTestId('channels-count').filter({ hasText: '0 of 0 channels matching other:*' }), 'no channel for pattern "other:*"');
  await page.getByLabel('Pattern (on the server)').fill('r*m');
  await page.getByTestId('channels-pattern-apply').click();
  await shows(page.getByTestId('channels-count').filter({ hasText: '1 of 1 channel matching r*m' }), `channel "${CHANNEL}" for pattern "r*m"`);
  await row.getByRole('link', { name: CHANNEL }).click();
  await shows(page.locator(`[data-testid="channel-page"][data-channel="${CHANNEL}"]`), `the page of channel "${CHANNEL}"`);
  await shows(page.locator(`[data-testid="presence-row"][data-client="${sdk.id}"]`).filter({ hasText: USER }), "the SDK client in the channel's presence");

  // Publishing: JSON that does not parse is refused before sending; valid JSON reaches the SDK client.
  const data = page.getByLabel('Data (JSON)');
  await data.fill('{"text": ');
  await page.getByTestId('publish-submit').click();
  await shows(page.getByTestId('publish-error').filter({ hasText: 'not valid JSON' }), 'the "not valid JSON" error');
  await data.fill('{"from": "the admin UI", "n": 1}');
  await page.getByTestId('publish-submit').click();
  await until(() => sdk.received.length > 0, { timeoutMs: UI_WAIT, what: 'the SDK client receiving the publication made in the UI' });
  assert.deepEqual(sdk.received, [{ from: 'the admin UI', n: 1 }], 'the SDK client received exactly the published data, once');
  await shows(page.getByTestId('publish-result').filter({ hasText: 'Published at offset 1' }), 'the publish result');
  await shows(page.getByTestId('history-item').filter({ hasText: 'the admin UI' }), 'the publication in the history');

  // The live tap shows a publication made through the HTTP server API.
  await page.getByTestId('tap-start').click();
  await shows(page.locator('[data-testid="tap-status"][data-status="live"]'), 'the tap going live');
  const reply = await gyre.api('publish', { channel: CHANNEL, data: { via: 'server API', seq: 7 } });
  assert.equal(reply['error'], undefined, `the API publish failed: ${JSON.stringify(reply)}`);
  const tapped = page.getByTestId('tap-event').filter({ hasText: '"via": "server API"' });
  await shows(tapped, 'the API publication in the live tap');
  assert.match((await tapped.first().textContent()) ?? '', /offset 2/, 'the tapped publication shows its offset');
  await until(() => sdk.received.length === 2, { timeoutMs: UI_WAIT, what: 'the SDK client receiving the API publication' });
  await page.screenshot({ path: screenshotPath('admin-ui-channel') });
  await page.getByTestId('tap-stop').click();
  await shows(page.locator('[data-testid="tap-status"][data-status="stopped"]'), 'the tap stopped');

  // An action: disconnecting the user closes the SDK client's connection.
  await page.getByTestId('nav-actions').click();
  const form = page.getByTestId('action-disconnect');
  await shows(form, 'the disconnect form');
  await form.getByLabel('User ID').fill(USER);
  const disconnected = once<{ code: number }>(sdk.client, 'disconnected', 'the SDK client disconnected by the Actions page');
  await form.getByRole('button', { name: 'Run' }).click();
  const { code } = await disconnected;
  assert.equal(code, 3503, 'disconnected with "force disconnect"');
  await shows(page.locator('[data-testid="action-disconnect-result"][data-ok="true"]'), 'the result of disconnect');
  await page.screenshot({ path: screenshotPath('admin-ui-actions') });

  // Logging out forgets the token.
  await page.getByTestId('logout').click();
  await shows(page.getByTestId('login'), 'the login page after logging out');
  assert.equal(await page.evaluate(() => localStorage.length), 0, 'the token is gone after logging out');

  assert.deepEqual(problems, [], 'no page errors or CSP violations');
});

browserTest('admin UI at phone width: navigation and overview fit the screen', async (t) => {
  const { gyre, browser, problems } = await setUp(t);
  const width = 390;
  const context = await browser.newContext({ viewport: { width, height: 844 } });
  const page = await openPage(context, `${gyre.baseUrl}/`, problems);
  await logIn(page);
  await shows(page.getByTestId('node-row'), 'a row in the nodes table');

  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(overflow <= width, `the page is wider than the screen: ${overflow} px`);
  for (const name of ['overview', 'channels', 'actions']) {
    const box = await page.getByTestId(`nav-${name}`).boundingBox();
    assert.ok(box !== null && box.x >= 0 && box.x + box.width <= width && box.height >= 24, `the "${name}" link is on screen and tappable: ${JSON.stringify(box)}`);
  }
  const clients = await page.getByTestId('total-clients').boundingBox();
  assert.ok(clients !== null && clients.y + clients.height <= 844, `the clients total is on the first screen: ${JSON.stringify(clients)}`);
  await page.screenshot({ path: screenshotPath('admin-ui-phone') });

  await page.getByTestId('nav-channels').click();
  await shows(page.getByTestId('channels'), 'the channels page reached from the phone navigation');
  await page.getByTestId('nav-actions').click();
  await shows(page.getByTestId('action-info'), 'the actions page reached from the phone navigation');
  const actionsWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(actionsWidth <= width, `the actions page is wider than the screen: ${actionsWidth} px`);
  await page.getByTestId('action-info-submit').click();
  await shows(page.locator('[data-testid="action-info-result"][data-ok="true"]').filter({ hasText: '"nodes"' }), 'the info result');

  assert.deepEqual(problems, [], 'no page errors or CSP violations');
});

browserTest('admin UI under a handler_prefix: insecure mode needs no login; repeated wrong passwords lock out', async (t) => {
  const { gyre: secured, browser, problems } = await setUp(t);
  const open = await adminGyre(t, { insecure: true, handler_prefix: '/ops' });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });

  // Insecure, under /ops: the app opens without a login, and its calls (API, tap) find the prefix.
  const page = await openPage(context, `${open.baseUrl}/ops/#/channels/${CHANNEL}`, problems);
  await shows(page.locator(`[data-testid="channel-page"][data-channel="${CHANNEL}"]`), 'the channel page without a login');
  assert.equal(await page.getByTestId('logout').count(), 0, 'no "Log out" in insecure mode');
  await page.getByTestId('tap-start').click();
  await shows(page.locator('[data-testid="tap-status"][data-status="live"]'), 'the tap going live under the prefix');
  await open.api('publish', { channel: CHANNEL, data: { under: 'prefix' } });
  await shows(page.getByTestId('tap-event').filter({ hasText: '"under": "prefix"' }), 'the publication in the tap under the prefix');
  await page.getByTestId('nav-overview').click();
  await shows(page.getByTestId('node-row'), 'the nodes under the prefix');

  // Wrong passwords: refused, then locked out with the server's message and the button disabled
  // until the Retry-After has passed; then the right password gets in.
  const login = await context.newPage();
  login.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  await login.goto(`${secured.baseUrl}/`, { timeout: UI_WAIT });
  await shows(login.getByTestId('login'), 'the login page');
  const submit = login.getByTestId('login-submit');
  for (let i = 1; i <= FREE_FAILURES; i++) {
    await login.getByLabel('Password').fill(`wrong-${i}`);
    const answered = login.waitForResponse((r) => r.url().endsWith('/admin/auth'), { timeout: UI_WAIT });
    await submit.click();
    const status = (await answered).status();
    assert.equal(status, i < FREE_FAILURES ? 400 : 429, `wrong password ${i} answered ${status}`);
  }
  await shows(login.getByTestId('login-error').filter({ hasText: /too many failed logins: try again in \d+ s/ }), 'the lock-out message');
  assert.equal(await submit.isDisabled(), true, 'the button is disabled during the lock-out');
  await login.getByLabel('Password').fill(PASSWORD);
  await shows(login.locator('[data-testid="login-submit"]:enabled'), 'the button enabled again after the lock-out', 5_000);
  await submit.click();
  await shows(login.getByTestId('overview'), 'the overview after the lock-out ended');

  assert.deepEqual(problems, [], 'no page errors or CSP violations');
});
