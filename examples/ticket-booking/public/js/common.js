// Helpers every page uses: JSON over HTTP, the signed-in user, formats, toasts.

/** GET a JSON route; a 401 sends the reader to the sign-in page and back. */
export async function getJson(path) {
  const res = await fetch(path, { headers: { Accept: 'application/json' } });
  if (res.status === 401) {
    signIn();
    throw new Error('signed out');
  }
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res.json();
}

/** To the sign-in page, coming back here afterwards. */
export function signIn() {
  location.href = `/login?next=${encodeURIComponent(location.pathname)}`;
}

/** Fills the top bar with the user's name. */
export async function showMe() {
  const { user } = await getJson('/api/me');
  const me = document.querySelector('[data-testid="me"]');
  if (me) {
    me.textContent = user.name;
    me.dataset.user = user.id;
  }
  return user;
}

const money = new Intl.NumberFormat('en-IE', { style: 'currency', currency: 'EUR' });
const when = new Intl.DateTimeFormat('en-GB', { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });

export const formatMoney = (cents) => money.format(cents / 100);
export const formatWhen = (iso) => when.format(new Date(iso));

/** Builds an element: el('p', {class: 'x', 'data-testid': 'y'}, 'text', child). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  node.append(...children.filter((c) => c !== undefined && c !== null && c !== false));
  return node;
}

/** A message at the bottom of the screen: kind "ok", "error" or "info". Errors stay longer. */
export function toast(text, kind = 'info') {
  const box = document.querySelector('[data-testid="toasts"]');
  if (!box) return;
  const item = el('div', { class: `toast toast-${kind}`, 'data-testid': 'toast', 'data-kind': kind, role: kind === 'error' ? 'alert' : 'status' }, text);
  const close = el('button', { class: 'toast-close', 'aria-label': 'Dismiss', onclick: () => item.remove() }, '×');
  item.append(close);
  box.append(item);
  while (box.children.length > 4) box.firstElementChild.remove();
  setTimeout(() => item.classList.add('toast-leaving'), kind === 'error' ? 6500 : 4500);
  setTimeout(() => item.remove(), kind === 'error' ? 7000 : 5000);
}
