/**
 * The web app: sign-in and sign-out, the two pages (events, an event's seat map), their assets
 * and the SDK, and the JSON API under /api. Pages are static HTML; their scripts fetch the rest.
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { apiRoutes, type ApiEnv } from './api.js';
import type { BookingService } from './booking.js';
import type { Sessions } from './session.js';
import { CENTRIFUGE_BROWSER_JS, fileResponse, publicFile } from './static.js';

/** Request bodies above this are refused with 413. */
export const MAX_BODY_BYTES = 64 * 1024;

/** A redirect target from a form: a path of this site, else `/`. */
function localPath(value: unknown): string {
  return typeof value === 'string' && value.startsWith('/') && !value.startsWith('//') && !value.includes('\\') ? value : '/';
}

/** The whole web app as one fetch handler (`app.fetch(request, bindings)`). */
export function webApp(booking: BookingService, sessions: Sessions): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const store = booking.store;

  // The app's bodies are a few bytes: anything past 64 KiB is refused before it is read whole.
  app.use(
    '*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) => c.json({ error: 'too_large', message: 'The request body is too large.' }, 413),
    }),
  );
  app.route('/api', apiRoutes(booking, sessions));

  /** A page for signed-in users; others go to the sign-in page and come back. */
  const page = (file: string) => async (c: Context<ApiEnv>) => {
    if (sessions.userOf(c.req.header('cookie')) === undefined) return c.redirect(`/login?next=${encodeURIComponent(c.req.path)}`, 302);
    return (await publicFile(file))!;
  };
  app.get('/', page('index.html'));
  app.get('/events/:id{[0-9]+}', page('event.html'));

  app.get('/login', async () => (await publicFile('login.html'))!);
  // The demo users, for the sign-in page (no passwords: pick one).
  app.get('/login/users', (c) => c.json({ users: store.users() }));
  app.post('/login', async (c) => {
    const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
    const userId = form['user'];
    const next = localPath(form['next']);
    if (typeof userId !== 'string' || store.user(userId) === undefined) return c.redirect(`/login?error=unknown_user&next=${encodeURIComponent(next)}`, 303);
    c.header('Set-Cookie', sessions.cookieFor(userId));
    return c.redirect(next, 303);
  });
  app.post('/logout', (c) => {
    c.header('Set-Cookie', sessions.clearCookie());
    return c.redirect('/login', 303);
  });

  app.get('/assets/*', async (c) => (await publicFile(c.req.path.slice('/assets/'.length))) ?? c.notFound());
  app.get('/vendor/centrifuge.js', async () => (await fileResponse(CENTRIFUGE_BROWSER_JS))!);
  app.get('/vendor/centrifuge.js.map', async (c) => (await fileResponse(`${CENTRIFUGE_BROWSER_JS}.map`)) ?? c.notFound());

  app.notFound((c) =>
    c.req.path.startsWith('/api/')
      ? c.json({ error: 'not_found', message: `No route ${c.req.method} ${c.req.path}.` }, 404)
      : c.text('Not found', 404),
  );
  return app;
}
