/**
 * Screenshots of the admin web UI for the README (`npm run screenshots -- admin`): a Gyre with admin
 * on, a few SDK clients in a few channels, some publications; then, in Chromium, the overview, a
 * channel's page with a running live tap, and the overview at phone width.
 */
import { join } from 'node:path';
import type { Centrifuge } from 'centrifuge';
import type { Locator, Page } from 'playwright-core';
import { launchBrowser } from '../../test/helpers/browser.js';
import { once, startGyre, type TestGyre } from '../../test/helpers/gyre.js';

const PASSWORD = 'screenshots';
const WAIT_MS = 15_000;

/** Who is connected where: user → channels. */
const PEOPLE: Record<string, string[]> = {
  alice: ['news', 'chat:lobby', 'alerts'],
  bob: ['news', 'chat:lobby'],
  carol: ['news', 'chat:lobby', 'chat:support'],
  dave: ['news', 'chat:support'],
  erin: ['news', 'prices:eurusd'],
  frank: ['news', 'prices:eurusd', 'prices:gbpusd'],
};

const LOBBY = 'chat:lobby';

async function visible(locator: Locator, what: string): Promise<void> {
  try {
    await locator.first().waitFor({ state: 'visible', timeout: WAIT_MS });
  } catch (err) {
    throw new Error(`screenshots: ${what} did not show within ${WAIT_MS} ms: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
}

/** Connects a user's SDK client subscribed to its channels. */
async function connect(gyre: TestGyre, user: string, channels: string[]): Promise<Centrifuge> {
  const client = gyre.client({ token: await gyre.token(user, { info: { name: user[0]!.toUpperCase() + user.slice(1) } }) });
  const subscribed = channels.map((ch) => {
    const sub = client.newSubscription(ch);
    const done = once(sub, 'subscribed', `${user} subscribing to ${ch}`);
    sub.subscribe();
    return done;
  });
  client.connect();
  await Promise.all(subscribed);
  return client;
}

async function publish(gyre: TestGyre, channel: string, data: unknown): Promise<void> {
  const reply = await gyre.api('publish', { channel, data });
  if (reply['error'] !== undefined) throw new Error(`screenshots: publish into ${channel} failed: ${JSON.stringify(reply['error'])}`);
}

async function logIn(page: Page, url: string): Promise<void> {
  await page.goto(url, { timeout: WAIT_MS });
  await visible(page.getByTestId('login'), 'the login page');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByTestId('login-submit').click();
  await visible(page.getByTestId('overview'), 'the overview');
  await page.mouse.move(0, 0); // no hover effect where the login button was
}

/**
 * Makes `admin-overview.png`, `admin-channel.png` (a running tap with publications) and
 * `admin-phone.png` (390×844) in `outDir`; returns their paths.
 */
export async function shoot(outDir: string): Promise<string[]> {
  const gyre = await startGyre({
    log: { level: 'warn' },
    node: { name: 'gyre-eu-1' },
    admin: { enabled: true, password: PASSWORD, secret: 'screenshots-admin-secret' },
    channel: {
      namespaces: [
        { name: 'chat', presence: true, join_leave: true, history_size: 50, history_ttl: '600s', allow_subscribe_for_client: true },
        { name: 'prices', history_size: 10, history_ttl: '60s', allow_subscribe_for_client: true },
      ],
    },
  });
  const browser = await launchBrowser();
  try {
    for (const [user, channels] of Object.entries(PEOPLE)) await connect(gyre, user, channels);
    await connect(gyre, 'alice', ['news', LOBBY]); // alice's second tab
    await publish(gyre, 'news', { title: 'Release 0.1.0 is out', url: '/blog/0.1.0' });
    await publish(gyre, LOBBY, { user: 'alice', text: 'Morning, everyone!' });
    await publish(gyre, LOBBY, { user: 'bob', text: 'Hi Alice 👋' });
    await publish(gyre, 'prices:eurusd', { bid: 1.0841, ask: 1.0843 });
    const total = Object.keys(PEOPLE).length + 1;

    const paths: string[] = [];
    const desk = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await desk.newPage();
    await logIn(page, `${gyre.baseUrl}/`);
    await visible(page.getByTestId('total-clients').filter({ hasText: new RegExp(`^${total}$`) }), `${total} clients on the overview`);
    paths.push(join(outDir, 'admin-overview.png'));
    await page.screenshot({ path: paths.at(-1)!, animations: 'disabled' });

    await page.goto(`${gyre.baseUrl}/#/channels/${encodeURIComponent(LOBBY)}`, { timeout: WAIT_MS });
    await visible(page.getByTestId('presence-row').nth(3), 'the lobby presence');
    await visible(page.getByTestId('history-item').nth(1), 'the lobby history');
    await page.getByTestId('tap-start').click();
    await visible(page.locator('[data-testid="tap-status"][data-status="live"]'), 'the live tap');
    await publish(gyre, LOBBY, { user: 'carol', text: 'Is the deploy done?' });
    await connect(gyre, 'grace', [LOBBY]);
    await publish(gyre, LOBBY, { user: 'dave', text: 'Yes, 3 minutes ago.', ts: 1767603300 });
    await publish(gyre, LOBBY, { user: 'grace', text: 'Hello from the new client' });
    await visible(page.getByTestId('tap-event').nth(2), 'three publications in the tap');
    await visible(page.getByTestId('presence-row').nth(4), "grace in the lobby's presence");
    paths.push(join(outDir, 'admin-channel.png'));
    await page.screenshot({ path: paths.at(-1)!, animations: 'disabled' });
    await desk.close();

    const phone = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const small = await phone.newPage();
    await logIn(small, `${gyre.baseUrl}/`);
    await visible(small.getByTestId('node-row'), 'the nodes at phone width');
    paths.push(join(outDir, 'admin-phone.png'));
    await small.screenshot({ path: paths.at(-1)!, animations: 'disabled' });
    await phone.close();
    return paths;
  } finally {
    await browser.close();
    await gyre.close();
  }
}
