// Sign-in: pick a demo user (no passwords in a demo); the app sets a signed session cookie.
import { el } from './common.js';

const params = new URLSearchParams(location.search);
document.querySelector('input[name="next"]').value = params.get('next') ?? '/';
if (params.get('error') === 'unknown_user') document.querySelector('[data-testid="login-error"]').hidden = false;

const res = await fetch('/login/users');
const { users } = await res.json();
document.querySelector('[data-testid="users"]').replaceChildren(
  ...users.map((u) =>
    el(
      'button',
      { type: 'submit', name: 'user', value: u.id, class: 'user-button', 'data-testid': `login-${u.id}` },
      el('span', { class: 'avatar', 'aria-hidden': 'true' }, u.name.slice(0, 1)),
      el('span', {}, u.name),
    ),
  ),
);
