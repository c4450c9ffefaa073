/**
 * The admin app: asks `admin/init` whether a login is needed, shows the login page or the screens
 * of the current route under a header with the navigation.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { AdminClient, fetchInit, loadToken, storeToken } from './api';
import { errorMessage } from './format';
import { useRoute, type Route } from './router';
import { Actions } from './screens/Actions';
import { Channel } from './screens/Channel';
import { Channels } from './screens/Channels';
import { Login } from './screens/Login';
import { Overview } from './screens/Overview';
import { SessionContext } from './session';

type Auth =
  | { state: 'loading' }
  | { state: 'unreachable'; error: string }
  | { state: 'login'; notice?: string }
  | { state: 'in'; token: string | null; insecure: boolean };

const NAV: Array<{ href: string; label: string; screens: Array<Route['screen']> }> = [
  { href: '#/', label: 'Overview', screens: ['overview'] },
  { href: '#/channels', label: 'Channels', screens: ['channels', 'channel'] },
  { href: '#/actions', label: 'Actions', screens: ['actions'] },
];

const TITLES: Record<Route['screen'], string> = { overview: 'Overview', channels: 'Channels', channel: 'Channel', actions: 'Actions' };

export function App() {
  const [auth, setAuth] = useState<Auth>({ state: 'loading' });
  const [version, setVersion] = useState('');
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const token = loadToken();
    fetchInit(token)
      .then((init) => {
        setVersion(init.version);
        if (init.insecure) setAuth({ state: 'in', token: null, insecure: true });
        else if (init.authenticated && token !== null) setAuth({ state: 'in', token, insecure: false });
        else {
          if (token !== null) storeToken(null);
          setAuth({ state: 'login', ...(token !== null && { notice: 'Your session has ended: sign in again.' }) });
        }
      })
      .catch((err: unknown) => setAuth({ state: 'unreachable', error: errorMessage(err) }));
  }, [attempt]);

  const token = auth.state === 'in' ? auth.token : null;
  const client = useMemo(
    () =>
      new AdminClient(token, () => {
        storeToken(null);
        setAuth({ state: 'login', notice: 'Your session has ended: sign in again.' });
      }),
    [token],
  );

  if (auth.state === 'loading') return <p class="splash">Loading…</p>;
  if (auth.state === 'unreachable') {
    return (
      <main class="login">
        <div class="card login-card" role="alert">
          <h1>The admin API does not answer</h1>
          <p class="error-line">{auth.error}</p>
          <button type="button" class="btn btn-primary" onClick={() => setAttempt((n) => n + 1)}>
            Try again
          </button>
        </div>
      </main>
    );
  }
  if (auth.state === 'login') {
    return (
      <Login
        {...(auth.notice !== undefined && { notice: auth.notice })}
        onToken={(t) => {
          storeToken(t);
          setAuth({ state: 'in', token: t, insecure: false });
        }}
      />
    );
  }
  return (
    <SessionContext.Provider value={client}>
      <Shell
        version={version}
        insecure={auth.insecure}
        onLogout={() => {
          storeToken(null);
          setAuth({ state: 'login' });
        }}
      />
    </SessionContext.Provider>
  );
}

function Shell({ version, insecure, onLogout }: { version: string; insecure: boolean; onLogout: () => void }) {
  const route = useRoute();
  useEffect(() => {
    document.title = `${route.screen === 'channel' ? route.channel : TITLES[route.screen]} · Gyre admin`;
    window.scrollTo(0, 0);
  }, [route]);

  return (
    <>
      <header class="topbar">
        <div class="topbar-inner">
          <a class="brand" href="#/">
            <span class="logo" aria-hidden="true" />
            Gyre <span class="brand-sub">admin</span>
          </a>
          <nav class="nav" aria-label="Main" data-testid="nav">
            {NAV.map((item) => {
              const active = item.screens.includes(route.screen);
              return (
                <a key={item.href} href={item.href} class={active ? 'active' : undefined} aria-current={active ? 'page' : undefined} data-testid={`nav-${item.label.toLowerCase()}`}>
                  {item.label}
                </a>
              );
            })}
          </nav>
          <div class="topbar-end">
            {version !== '' && <span class="version">v{version}</span>}
            {insecure ? (
              <span class="badge badge-error" title="admin.insecure is on: no login is needed">
                insecure
              </span>
            ) : (
              <button type="button" class="btn btn-on-dark" data-testid="logout" onClick={onLogout}>
                Log out
              </button>
            )}
          </div>
        </div>
      </header>
      <main class="content">
        {route.screen === 'overview' && <Overview />}
        {route.screen === 'channels' && <Channels />}
        {route.screen === 'channel' && <Channel key={route.channel} channel={route.channel} />}
        {route.screen === 'actions' && <Actions />}
      </main>
    </>
  );
}
