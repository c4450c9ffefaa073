/**
 * Drives the demo's pages in a browser (playwright-core), for its tests and its screenshot script:
 * sign a user in, open an event, click seats, wait for what the page shows. Every wait is bounded
 * and its failure says what the page did not show.
 */
import type { BrowserContext, Page } from 'playwright-core';

/** How a seat looks: free, mine (held by you), held (by someone else), sold, owned (your ticket). */
export type SeatView = 'free' | 'mine' | 'held' | 'sold' | 'owned';

const seatSelector = (seat: string, view?: SeatView): string => `[data-testid="seat-${seat}"]${view === undefined ? '' : `[data-state="${view}"]`}`;

/** Rewrites a Playwright timeout into a sentence about the page (and who was looking). */
async function bounded<T>(what: string, page: Page, wait: () => Promise<T>): Promise<T> {
  try {
    return await wait();
  } catch (e) {
    const who = await page.locator('[data-testid="me"]').textContent({ timeout: 500 }).catch(() => '?');
    throw new Error(`${who}'s page did not show ${what}: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
}

/** Signs `userId` in through the sign-in page, landing on `path`. */
export async function signIn(context: BrowserContext, baseUrl: string, userId: string, path = '/'): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${baseUrl}/login?next=${encodeURIComponent(path)}`);
  await page.click(`[data-testid="login-${userId}"]`);
  await page.waitForURL(`${baseUrl}${path}`);
  return page;
}

/** Signs in and opens an event; resolves once the page is live and shows the seat map. */
export async function openEvent(context: BrowserContext, baseUrl: string, userId: string, eventId: number, timeoutMs = 10_000): Promise<Page> {
  const page = await signIn(context, baseUrl, userId, `/events/${eventId}`);
  await waitConnected(page, timeoutMs);
  await bounded('its seat map', page, () => page.waitForSelector('body[data-sync="loaded"] [data-testid^="seat-"]', { timeout: timeoutMs }));
  return page;
}

/** Waits for the status indicator to say the page is connected. */
export function waitConnected(page: Page, timeoutMs = 10_000): Promise<unknown> {
  return bounded('"Live" (connected)', page, () => page.waitForSelector('[data-testid="status"][data-state="connected"]', { timeout: timeoutMs }));
}

/** Clicks a seat. */
export function clickSeat(page: Page, seat: string): Promise<void> {
  return page.click(seatSelector(seat));
}

/** How the page shows a seat now. */
export async function seatView(page: Page, seat: string): Promise<SeatView> {
  return (await page.getAttribute(seatSelector(seat), 'data-state')) as SeatView;
}

/** Waits until the page shows the seat as `view`. */
export function waitSeat(page: Page, seat: string, view: SeatView, timeoutMs = 10_000): Promise<unknown> {
  return bounded(`seat ${seat} as "${view}" within ${timeoutMs} ms`, page, () => page.waitForSelector(seatSelector(seat, view), { timeout: timeoutMs }));
}

/** Waits for a toast whose text contains `text`; resolves with its text. */
export async function waitToast(page: Page, text: string, timeoutMs = 10_000): Promise<string> {
  const toast = page.locator('[data-testid="toast"]', { hasText: text }).first();
  await bounded(`a message containing "${text}" within ${timeoutMs} ms`, page, () => toast.waitFor({ timeout: timeoutMs }));
  return (await toast.textContent()) ?? '';
}

/** Waits until the page says `count` people are viewing. */
export function waitViewers(page: Page, count: number, timeoutMs = 10_000): Promise<unknown> {
  return bounded(`"${count} people viewing" within ${timeoutMs} ms`, page, () =>
    page.waitForSelector(`[data-testid="viewers"][data-count="${count}"]`, { timeout: timeoutMs }),
  );
}
