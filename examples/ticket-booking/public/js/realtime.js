// The page's connection to Gyre, with the status indicator in the top bar.
//
// No token: the page is served by the app on the same origin, so the browser sends the session
// cookie with the WebSocket upgrade and Gyre's connect handler reads it (realtime.ts).
import { signIn } from './common.js';

const LABELS = {
  connected: 'Live',
  connecting: 'Reconnecting…',
  disconnected: 'Disconnected',
  offline: 'Offline: waiting for the network',
};

/** A connected-to-be Centrifuge client (call `connect()` after adding subscriptions). */
export function createClient() {
  // `Centrifuge` is the SDK's browser build, served by the app at /vendor/centrifuge.js.
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const client = new globalThis.Centrifuge(`${scheme}://${location.host}/connection/websocket`, {
    // Come back quickly after a network change (the SDK backs off up to maxReconnectDelay).
    minReconnectDelay: 300,
    maxReconnectDelay: 5000,
  });
  const status = document.querySelector('[data-testid="status"]');
  const show = (state) => {
    if (!status) return;
    const shown = state !== 'connected' && !navigator.onLine ? 'offline' : state;
    status.dataset.state = shown;
    status.querySelector('.label').textContent = LABELS[shown];
  };
  client.on('state', (ctx) => show(ctx.newState));
  addEventListener('offline', () => show(client.state));
  addEventListener('online', () => show(client.state));
  client.on('disconnected', (ctx) => {
    // 4501: the connect handler found no valid session.
    if (ctx.code === 4501) signIn();
  });
  show(client.state);
  return client;
}

/**
 * An RPC call that answers like an HTTP route (the app's routes serve `verb:uri` methods): the
 * route's JSON with `code`, its status. A call that could not be made (no connection) gives
 * `{code: 0, message}`, so callers handle one shape.
 */
export async function call(client, method, data = {}) {
  if (client.state !== 'connected') {
    return { code: 0, message: navigator.onLine ? 'Not connected yet: try again in a moment.' : 'You are offline: try again when the network is back.' };
  }
  try {
    return (await client.rpc(method, data)).data;
  } catch (e) {
    return { code: 0, message: `The server did not answer (${e.message ?? e.code}): try again.` };
  }
}
