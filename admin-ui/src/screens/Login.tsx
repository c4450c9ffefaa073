/**
 * The login page: a password, sent to `admin/auth` for a token. After too many failures the server
 * says how long to wait (Retry-After): the button stays disabled until then.
 */
import { useEffect, useState } from 'preact/hooks';
import { login, LoginError } from '../api';
import { errorMessage } from '../format';

export function Login({ onToken, notice }: { onToken: (token: string) => void; notice?: string }) {
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [lockedUntil, setLockedUntil] = useState(0);
  const [now, setNow] = useState(Date.now());
  const locked = now < lockedUntil;

  // While locked out: tick, to count down and enable the button again.
  useEffect(() => {
    if (!locked) return undefined;
    const id = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(id);
  }, [locked]);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy || locked) return;
    setBusy(true);
    setError(undefined);
    try {
      onToken(await login(password));
    } catch (err) {
      setError(errorMessage(err));
      if (err instanceof LoginError && err.retryAfterSeconds !== undefined) {
        const t = Date.now();
        setNow(t);
        setLockedUntil(t + err.retryAfterSeconds * 1000);
      }
      setBusy(false);
    }
  };

  return (
    <main class="login" data-testid="login">
      <form class="card login-card" onSubmit={submit}>
        <div class="brand brand-large">
          <span class="logo" aria-hidden="true" />
          Gyre
        </div>
        <h1>Sign in to the admin</h1>
        {notice !== undefined && error === undefined && <p class="notice">{notice}</p>}
        <label htmlFor="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autocomplete="current-password"
          required
          autofocus
          value={password}
          aria-invalid={error !== undefined}
          aria-describedby={error !== undefined ? 'login-error' : undefined}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
        <p id="login-error" class="error-line" role="alert" data-testid="login-error">
          {error ?? ''}
        </p>
        <button type="submit" class="btn btn-primary btn-block" data-testid="login-submit" disabled={busy || locked}>
          {busy ? 'Signing in…' : locked ? `Try again in ${Math.ceil((lockedUntil - now) / 1000)} s` : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
