/**
 * Screenshots of the ticket-booking demo for the README (`npm run screenshots -- booking`): the app
 * on a free port with a throwaway database, Alice and Bob on one event in Debian's Chromium. Bob
 * buys two seats and holds one; Alice buys two, holds two, and sees the lot.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBookingApp } from '../../examples/ticket-booking/app.js';
import { clickSeat, openEvent, waitSeat, waitToast, waitViewers } from '../../examples/ticket-booking/browser-driver.js';
import { launchBrowser } from '../../test/helpers/browser.js';

/** Saves booking-event.png (1280×800, Alice's page) and booking-phone.png (390×844, Bob's); returns their paths. */
export async function shoot(outDir: string): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'booking-shots-'));
  const app = await startBookingApp({ port: 0, dbFile: join(dir, 'booking.sqlite'), holdSeconds: 600, logLevel: 'warn' });
  const browser = await launchBrowser();
  try {
    const alice = await openEvent(await browser.newContext({ viewport: { width: 1280, height: 800 } }), app.url, 'alice', 1);
    const bob = await openEvent(await browser.newContext({ viewport: { width: 390, height: 844 } }), app.url, 'bob', 1);
    await Promise.all([waitViewers(alice, 2), waitViewers(bob, 2)]);

    for (const seat of ['E5', 'E6']) {
      await clickSeat(bob, seat);
      await waitSeat(bob, seat, 'mine');
    }
    await bob.click('[data-testid="buy"]');
    await waitToast(bob, 'Your tickets are booked');
    await clickSeat(bob, 'F8');
    await waitSeat(bob, 'F8', 'mine');

    for (const seat of ['D6', 'D7']) {
      await clickSeat(alice, seat);
      await waitSeat(alice, seat, 'mine');
    }
    await alice.click('[data-testid="buy"]');
    await waitToast(alice, 'Your tickets are booked');
    for (const seat of ['C6', 'C7']) {
      await clickSeat(alice, seat);
      await waitSeat(alice, seat, 'mine');
    }
    await Promise.all([waitSeat(alice, 'F8', 'held'), waitSeat(alice, 'E5', 'sold'), waitSeat(bob, 'C7', 'held'), waitSeat(bob, 'D7', 'sold')]);
    // Nothing hovered, focused or waiting for an answer: the seats show their states. Bob's
    // confirmation would cover half a phone screen: it goes; Alice's shows.
    for (const page of [alice, bob]) {
      await page.mouse.move(0, 0);
      await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
      await page.waitForFunction(() => document.querySelector('.seat.pending') === null);
      await page.evaluate(() => window.scrollTo(0, 0));
    }
    await bob.evaluate(() => document.querySelectorAll('[data-testid="toast"]').forEach((t) => t.remove()));

    const event = join(outDir, 'booking-event.png');
    const phone = join(outDir, 'booking-phone.png');
    // animations: 'disabled' finishes the seats' colour transitions (no half-painted seat).
    await alice.screenshot({ path: event, animations: 'disabled' });
    await bob.screenshot({ path: phone, animations: 'disabled' });
    return [event, phone];
  } finally {
    await browser.close();
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
